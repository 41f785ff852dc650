"""Where the register lives: a path, an SQLite URL or a PostgreSQL URL, else the user's data folder; and its
address as shown, never with a password."""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from batch.errors import UnusableInput

ENV_VAR = "ASR_BATCH_REGISTER"
POSTGRES_EXTRA = "pip install 'asr-batch[postgres]'"
POSTGRES_DRIVERS = ("postgresql", "postgres", "postgresql+psycopg")  # all spoken through psycopg 3


@dataclass(frozen=True)
class Location:
    url: URL
    path: Path | None  # the SQLite file; None for a database server

    @property
    def shown(self) -> str:
        """The URL as `status` shows it: never with a password. A file's path as the clerk knows it, with its
        letters: SQLAlchemy's rendering would show `C:\\Users\\J%C3%B8rgen` for Jørgen's profile."""
        if self.path is None:
            return _shown(self.url)
        from urllib.parse import unquote

        return unquote(self.url.render_as_string(hide_password=True))

    @property
    def shared(self) -> bool:
        """A register on a database server is shared by a team, each clerk on a computer of their own."""
        return self.path is None


def default_path() -> Path:
    from batch.system import user_dirs

    return Path(user_dirs().user_data_dir) / "register.sqlite"


def locate(given: str | None = None) -> Location:
    """--register, else $ASR_BATCH_REGISTER, else register.sqlite in the user's data folder."""
    value = given or os.environ.get(ENV_VAR) or str(default_path())
    if "://" not in value:
        path = Path(value).expanduser().absolute()
        return Location(URL.create("sqlite", database=str(path)), path)
    try:
        url = make_url(value)
        url.get_backend_name()
    except (sa.exc.ArgumentError, ValueError):
        raise UnusableInput(f"'{_without_password(value)}' is geen geldig adres van een register.",
                            "Geef een bestandspad (register.sqlite), een adres als sqlite:///pad/register.sqlite, "
                            "of postgresql://gebruiker@server/database.") from None
    if url.get_backend_name() in ("postgresql", "postgres"):
        return _server_location(url)
    if url.get_backend_name() != "sqlite":
        raise UnusableInput(
            f"Een register op {url.get_backend_name()} ('{_shown(url)}') kan asr-batch niet gebruiken.",
            "Gebruik een SQLite-bestand (--register pad/register.sqlite) of PostgreSQL "
            "(--register postgresql://gebruiker@server/database).")
    if not url.database or url.database == ":memory:":
        raise UnusableInput("Een register in het geheugen blijft niet bewaard.", "Geef een bestandspad.")
    if url.database.startswith("file:"):  # an SQLite URI, such as file:/pad/register.sqlite?mode=ro&uri=true
        if url.query.get("uri") != "true":
            raise UnusableInput(f"'{url.render_as_string(hide_password=True)}' is een SQLite-URI zonder uri=true.",
                                "Voeg ?uri=true toe, of geef gewoon het pad van het bestand.")
        return Location(url, Path(url.database.removeprefix("file:")).expanduser().absolute())
    path = Path(url.database).expanduser().absolute()
    return Location(url.set(database=str(path)), path)


def _server_location(url: URL) -> Location:
    """A PostgreSQL URL, spoken through psycopg 3 whichever way it is written (postgres:// too)."""
    if "@" in (url.host or ""):  # an '@' in the password, not written as %40: the rest of it would show as the host
        raise UnusableInput("Het adres van het register bevat meer dan één '@': waarschijnlijk staat er een '@' in het "
                            "wachtwoord of de gebruikersnaam (het adres wordt daarom niet getoond).",
                            "Schrijf een '@' in het wachtwoord als %40, of zet het wachtwoord in PGPASSWORD of "
                            "~/.pgpass in plaats van in het adres.")
    if url.drivername not in POSTGRES_DRIVERS:
        raise UnusableInput(f"asr-batch spreekt PostgreSQL via psycopg 3, niet via '{url.drivername}' "
                            f"('{_shown(url)}').", "Schrijf het adres als postgresql://gebruiker@server/database.")
    try:
        importlib.import_module("psycopg")
    except ImportError:  # not installed, or without the libpq it needs
        raise UnusableInput(f"Voor het register '{_shown(url)}' op PostgreSQL is het stuurprogramma psycopg nodig, "
                            "en dat is niet geïnstalleerd.", f"Installeer het met: {POSTGRES_EXTRA}") from None
    return Location(url.set(drivername="postgresql+psycopg"), None)


def _shown(url: URL) -> str:
    """A server's URL as people write it (postgresql://klerk@db.kantoor/asr), without the driver and without the
    password: not the one in the URL, nor one given in its query (libpq takes ?password=... too)."""
    query = {key: value for key, value in url.query.items() if "password" not in key.lower()}
    backend = url.get_backend_name()
    return URL.create("postgresql" if backend in ("postgresql", "postgres") else backend, username=url.username,
                      host=url.host, port=url.port, database=url.database,
                      query=query).render_as_string(hide_password=False)


def _without_password(value: str) -> str:
    """A URL as typed, for a message about it: the password masked up to the last '@' (a password may hold one)."""
    return re.sub(r"(password=)[^&]*", r"\1***", re.sub(r"(://[^:/@]*:)[^/]*@", r"\1***@", value))
