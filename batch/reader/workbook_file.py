"""The file before it is opened as a workbook: there, a plain file, not Excel's lock file, not too large,
not empty, not an old .xls or a password-protected workbook, and a zip (as every .xlsx and .xlsm is)."""

from __future__ import annotations

from pathlib import Path

from batch import file_errors
from batch.errors import UnusableInput

MAX_FILE_BYTES = 200 * 1024 * 1024


def check_file(path: Path) -> bytes:
    """The file's bytes, once every check on the file as such has passed."""
    file_errors.check_name(path, "Het invoerbestand")
    if not path.exists():
        raise UnusableInput(f"Het bestand '{path}' bestaat niet.", "Controleer de naam en de map.")
    if path.is_dir():
        raise UnusableInput(f"'{path}' is een map, geen Excel-bestand.", "Geef het pad naar het .xlsx-bestand.")
    if not path.is_file():
        raise UnusableInput(f"'{path}' is geen gewoon bestand.", "Geef het pad naar het .xlsx-bestand.")
    if path.name.startswith("~$"):
        raise UnusableInput(
            f"'{path.name}' is een tijdelijk vergrendelingsbestand van Excel, niet de werkmap zelf.",
            f"Gebruik het bestand zonder '~$' ervoor: '{path.name[2:]}'.",
        )
    data = _read_within_cap(path)
    if not data:
        raise UnusableInput(
            f"Het bestand '{path.name}' is leeg (0 bytes).",
            "Het bestand is waarschijnlijk niet goed opgeslagen of gekopieerd. Open de werkmap in Excel en sla hem "
            "opnieuw op.",
        )
    _refuse_old_or_protected_format(path, data)
    if not data.startswith(b"PK"):
        separator = _csv_separator(data)
        if separator is not None or path.suffix.lower() in (".csv", ".tsv", ".txt"):
            how = f", kolommen gescheiden door {separator}" if separator else ""
            raise UnusableInput(
                f"'{path.name}' is geen Excel-werkmap maar een CSV-bestand (tekst{how}); asr-batch leest werkmappen: "
                ".xlsx, .xlsm en .ods.",
                FIX_CSV,
            )
        raise UnusableInput(
            f"'{path.name}' is geen Excel-werkmap (misschien een CSV- of tekstbestand met een andere extensie).",
            "Open het in Excel en kies Opslaan als > Excel-werkmap (.xlsx).",
        )
    return data


SAVE_AS_XLSX = ("in Excel met Bestand > Opslaan als > Excel-werkmap (.xlsx), in LibreOffice Calc met Bestand > "
                "Opslaan als > bestandstype Excel 2007-365 (.xlsx)")
FIX_CSV = (
    "Open het als tabel en sla het op als werkmap. Excel: Gegevens > Van tekst/CSV, kies het bestand, dan Gegevens "
    "transformeren en zet de kolommen met codes en nummers (zoals Werkgeverscode en KvK-nummer) op Tekst, anders "
    "verdwijnen voorloopnullen; Sluiten en laden. LibreOffice Calc: Bestand > Openen, kies in Tekstimport het "
    "scheidingsteken en zet die kolommen op Tekst. Sla het daarna op als .xlsx: " + SAVE_AS_XLSX + "."
)
_SEPARATORS = {b";": "puntkomma's", b",": "komma's", b"\t": "tabs"}


def _csv_separator(data: bytes) -> str | None:
    """How the columns of a CSV are separated, named in Dutch, when `data` starts as a CSV does: text lines (no
    control characters but tab, CR and LF) holding a separator. None: no CSV, or none recognised."""
    head = data[:8192]
    try:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")  # what Excel writes as "CSV" on a Dutch Windows
        except UnicodeDecodeError:
            return None
    if any(ch < " " and ch not in "\t\r\n" for ch in text):
        return None
    first = text.splitlines()[0] if text.splitlines() else ""
    counts = {name: first.count(sep.decode()) for sep, name in _SEPARATORS.items()}
    best = max(counts, key=lambda name: counts[name])
    return best if counts[best] else None


def _read_within_cap(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnusableInput(
                f"'{path.name}' is {size // (1024 * 1024)} MB; een werkmap met werkgevers is veel kleiner "
                f"(grens: {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                "Verwijder overbodige tabbladen, afbeeldingen en opmaak, of splits het bestand.",
            )
        return path.read_bytes()
    except OSError as exc:
        raise file_errors.explained(exc, path, "gelezen") or UnusableInput(
            f"Het bestand '{path.name}' kan niet worden gelezen ({exc.strerror or exc}).",
            "Sluit het bestand in Excel en controleer of u leesrechten hebt.",
        ) from None


def _refuse_old_or_protected_format(path: Path, data: bytes) -> None:
    """An OLE compound file: an old .xls, or an .xlsx that a password has wrapped in one."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise UnusableInput(
                f"'{path.name}' is met een wachtwoord beveiligd; asr-batch kan het niet openen.",
                "Open het in Excel, kies Bestand > Info > Werkmap beveiligen > Versleutelen met wachtwoord, "
                "maak het wachtwoord leeg en sla op als Excel-werkmap (.xlsx).",
            )
        raise UnusableInput(
            f"'{path.name}' is een oud Excel-bestand (.xls, Excel 97-2003); asr-batch leest .xlsx, .xlsm en .ods.",
            "Open het in Excel of LibreOffice Calc en sla het op als werkmap: " + SAVE_AS_XLSX + ".",
        )
