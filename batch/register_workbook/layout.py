"""What the register workbook's writer and reader agree on: its sheets, its columns, its marker and format
version, and how it names the register it came from without revealing anything of it."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

SHEET = "Register"
HIDDEN = "asr-batch"  # the hidden sheet: what recognises the file, and each row as it was written
MARKER = "asr-batch registerwerkmap"
VERSION = 2  # of this layout; a reader refuses a newer one, and reads format 1 (without Gekoppeld op) still

CODE = "Werkgeverscode"
SUBMITTED = "Aangemeld op"
CONFIRMED = "Bevestigd op"
FIRST_EXCHANGE = "Eerste uitwisseling"
LINKED = "Gekoppeld op"  # since format 2
EDITABLE = (SUBMITTED, CONFIRMED, FIRST_EXCHANGE, LINKED)
DATE_FORMAT = "dd-mm-yyyy"  # Excel's code for what the Dutch Excel shows as dd-mm-jjjj


@dataclass(frozen=True)
class Column:
    header: str
    width: int


# Headers and long texts wrap, so the columns are as wide as a date or a code and the sheet prints larger.
COLUMNS = (Column(CODE, 15), Column("Naam werkgever", 28), Column("Status", 11), Column("Laatst gezien", 11),
           Column(SUBMITTED, 11), Column("Dagen wachten", 9), Column("Wacht te lang", 11), Column(CONFIRMED, 12),
           Column(FIRST_EXCHANGE, 11), Column("Bron", 22), Column("Documenten", 12),
           # since format 2, after the columns of format 1, so that those keep their letters
           Column(LINKED, 11), Column("Gewijzigd", 24), Column("Notitie", 30))

# The hidden sheet: key/value rows from A1 (the marker and version first), an empty row, then one row per werkgever
# under these headers, every value as text (dates ISO).
KEY_REGISTER, KEY_IDENTITY, KEY_WRITTEN, KEY_SHEET = "register", "register-id", "geschreven", "blad"
ROW_HEADERS_1 = ("werkgeverscode", "state", "submitted_on", "confirmed_on", "first_exchange", "last_event")
ROW_HEADERS = (*ROW_HEADERS_1, "linked_on")


def register_identity(key: bytes) -> str:
    """Tells one register from another, and reveals nothing: an HMAC of a fixed text with the register's key."""
    return hmac.new(key, MARKER.encode(), "sha256").hexdigest()[:32]
