"""The register's two homes as the tests see them: an SQLite file, a database on a PostgreSQL server.

test_register.py runs every test of the register against both (a `backend` fixture), and looks at the register
through this one interface where it must look past the commands: whether it is exactly as it was, what its event
log holds, everything it holds (for secrets that must not be there), a lock held by another command.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from pgserver import CLERK, Server


class Backend(Protocol):
    name: str
    setting: str  # what ASR_BATCH_REGISTER holds
    shown: str  # what `status` names

    def snapshot(self) -> str:
        """A digest of the whole register: equal means exactly as it was."""

    def exists(self) -> bool:
        """Whether anything was created."""

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of a query (portable SQL: quote "user")."""

    def execute(self, statement: str) -> None:
        """Change the register behind asr-batch's back."""

    def columns(self, table: str) -> list[str]: ...

    def everything(self) -> bytes:
        """All the register holds, as bytes, to look for what it must never hold."""

    def hold_lock(self) -> contextlib.AbstractContextManager[None]:
        """Another command that holds the register for writing (and, on SQLite, for reading too)."""


class SqliteBackend:
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.setting = str(path)
        self.shown = f"sqlite:///{path}"

    def snapshot(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path.exists() else "absent"

    def exists(self) -> bool:
        return self.path.exists()

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            return db.execute(query).fetchall()

    def execute(self, statement: str) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as db, db:
            db.execute(statement)

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.rows(f"pragma table_info({table})")]

    def everything(self) -> bytes:
        return self.path.read_bytes()  # byte by byte, free pages and all

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[None]:
        holder = sqlite3.connect(self.path, isolation_level=None)
        holder.execute("begin exclusive")
        try:
            yield
        finally:
            holder.execute("rollback")
            holder.close()


class PostgresBackend:
    name = "postgresql"

    def __init__(self, server: Server, database: str) -> None:
        self.server = server
        self.database = database
        self.setting = server.url(database)
        self.shown = f"postgresql://{CLERK}@127.0.0.1:{server.port}/{database}"

    def _tables(self, conn: Any) -> list[str]:
        return [name for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = current_schema() "
            "order by table_name").fetchall()]

    def snapshot(self) -> str:
        """Every table's columns and rows (sorted): the register's content, as the SQLite file's bytes are."""
        digest = hashlib.sha256()
        with self.server.connect(self.database) as conn:
            for table in self._tables(conn):
                digest.update(repr((table, self.columns(table))).encode())
                rows = conn.execute(f'select * from "{table}"').fetchall()
                digest.update(repr(sorted(rows, key=repr)).encode())
        return digest.hexdigest()

    def exists(self) -> bool:
        with self.server.connect(self.database) as conn:
            return bool(self._tables(conn))

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with self.server.connect(self.database) as conn:
            return [tuple(row) for row in conn.execute(query).fetchall()]

    def execute(self, statement: str) -> None:
        with self.server.connect(self.database) as conn:
            conn.execute(statement)

    def columns(self, table: str) -> list[str]:
        with self.server.connect(self.database) as conn:
            return [name for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = current_schema() and "
                "table_name = %s order by ordinal_position", (table,)).fetchall()]

    def everything(self) -> bytes:
        """Every row of every table as PostgreSQL writes it as text (all columns, every type)."""
        parts: list[str] = []
        with self.server.connect(self.database) as conn:
            for table in self._tables(conn):
                parts += [text for (text,) in conn.execute(f'select t::text from "{table}" t').fetchall()]
        return "\n".join(parts).encode("utf-8")

    @contextlib.contextmanager
    def hold_lock(self) -> Iterator[None]:
        """What another asr-batch command does while it writes: hold the writers' lock (the generation row)."""
        with self.server.connect(self.database, user=CLERK) as conn:
            conn.autocommit = False
            conn.execute("select value from meta where key = 'generation' for update")
            try:
                yield
            finally:
                conn.rollback()
