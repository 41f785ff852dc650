"""A PostgreSQL server of the tests' own: initdb and pg_ctl in a temporary folder, a free port, removed at the end.

PostgreSQL's programs are enough (Debian: `apt-get install postgresql`); nothing is configured system-wide and
no running server is used. initdb and postgres refuse to run as root: as root, the server runs as the `postgres`
user in a folder handed over to it. The superuser and the clerk's role log in with a password (scram-sha-256),
so a wrong password is refused as on an office's server. The server runs without fsync: its data is thrown away.

`start(language="de")` starts a server that speaks another language, as an office's server may: its errors
arrive translated (PostgreSQL's own translations, as Debian's package ships them; GNU gettext takes LANGUAGE once
lc_messages is a locale other than plain C, and C.UTF-8 is one that every glibc system has).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

REQUIRE = "ASR_BATCH_REQUIRE_POSTGRES"  # set (CI): a server that cannot be started fails the tests, not skips them
HOW_TO_INSTALL = ("install PostgreSQL to run the register's tests on a real server as well (Debian/Ubuntu: "
                  "apt-get install postgresql; macOS: brew install postgresql); the tests start a server of their "
                  f"own. {REQUIRE}=1 turns this skip into a failure.")
CLERK = "klerk"  # the role the register's tests use, as a clerk of an office would
HOST = "127.0.0.1"


class Unavailable(Exception):
    """No server can be started here; the message says why and what to do."""


def find_bindir() -> Path | None:
    """The folder of initdb and pg_ctl: pg_config's, Debian's (newest version first), or on PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            candidates.append(Path(done.stdout.strip()))

    def version(folder: str) -> int:
        found = re.search(r"/(\d+)/bin$", folder)
        return int(found.group(1)) if found else 0

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    folder: Path
    bindir: Path
    port: int
    superuser_password: str
    clerk_password: str
    run_as: str | None  # the OS user the server runs as; None: ourselves
    version: int = 0  # server_version_num
    databases: int = field(default=0)
    language: str | None = None  # the language of its messages; None: English

    def refuse(self, user: str, database: str = "all") -> None:
        """Let `user` into `database` (all: any) nowhere from here, as an office's pg_hba.conf may (the first
        matching line decides)."""
        hba = self.folder / "data" / "pg_hba.conf"
        hba.write_text(f"host {database} {user} {HOST}/32 reject\n" + hba.read_text(encoding="utf-8"), encoding="utf-8")
        done = _run([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "reload"], self.run_as,
                    self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl reload failed: {done.stderr.strip()}")
        import psycopg

        for _ in range(100):  # the reload is a signal: wait until the server refuses before asking a password
            try:
                self.connect("postgres" if database == "all" else database, user=user, password="-").close()
            except psycopg.OperationalError as exc:
                if exc.pgconn is not None and not exc.pgconn.used_password:
                    return
            time.sleep(0.05)
        raise RuntimeError("the server did not take the new pg_hba.conf")

    def url(self, database: str, *, user: str = CLERK, password: str | None = "") -> str:
        """A register URL; the clerk's password unless another (or None: none) is given."""
        secret = self.clerk_password if password == "" else password
        credentials = quote(user) if secret is None else f"{quote(user)}:{quote(secret, safe='')}"
        return f"postgresql://{credentials}@{HOST}:{self.port}/{database}"

    def connect(self, database: str = "postgres", *, user: str = "postgres", password: str | None = None) -> Any:
        """A psycopg connection (autocommit), by default as the superuser."""
        import psycopg

        secret = password if password is not None else (
            self.superuser_password if user == "postgres" else self.clerk_password)
        return psycopg.connect(host=HOST, port=self.port, user=user, password=secret, dbname=database,
                               autocommit=True, connect_timeout=10)

    def admin(self, statement: str, *values: str) -> None:
        """Run one statement as the superuser; `values` are quoted as identifiers into {} (CREATE DATABASE {})."""
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL(statement).format(*(sql.Identifier(v) for v in values)))

    def new_database(self, owner: str = CLERK) -> str:
        """An empty database for one test (a copy of template1: some 30 ms)."""
        self.databases += 1
        name = f"register_{self.databases}"
        # PostgreSQL 15 copies the template through its WAL by default; without fsync a file copy is faster.
        self.admin("CREATE DATABASE {} OWNER {}" + (" STRATEGY FILE_COPY" if self.version >= 150000 else ""),
                   name, owner)
        return name

    def drop_database(self, name: str) -> None:
        self.admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def stop(self) -> None:
        try:
            _run([str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "stop", "-m", "fast", "-w"],
                 self.run_as, self.folder)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _run(command: list[str], run_as: str | None, cwd: Path,
         language: str | None = None) -> subprocess.CompletedProcess[str]:
    extra: dict[str, Any] = {}
    if run_as is not None:
        import pwd

        entry = pwd.getpwnam(run_as)
        extra = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
                          env={**os.environ, "LC_ALL": "C", **({"LANGUAGE": language} if language else {})}, **extra)


def start(language: str | None = None, max_connections: int = 100) -> Server:
    """Start a server, or raise Unavailable saying why; `language`: its messages in that language (de)."""
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(f"PostgreSQL is not installed: {HOW_TO_INSTALL}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("psycopg is not installed: pip install '.[test]'.") from None
    run_as = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root, and there is no 'postgres' user to run the server as (initdb "
                              f"refuses root): run the tests as another user, or {HOW_TO_INSTALL}") from None
        run_as = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="asr-batch-pg-"))
    try:
        return _start_in(folder, bindir, run_as, language, max_connections)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _start_in(folder: Path, bindir: Path, run_as: str | None, language: str | None,
              max_connections: int) -> Server:
    owner = None
    if run_as is not None:
        import pwd

        owner = pwd.getpwnam(run_as)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    superuser_password, clerk_password = secrets.token_hex(16), secrets.token_hex(16)
    pwfile = folder / "superuser-password"
    pwfile.write_text(superuser_password + "\n", encoding="utf-8")
    pwfile.chmod(0o600)
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    done = _run([str(bindir / "initdb"), "-D", str(folder / "data"), "-U", "postgres", "--auth=scram-sha-256",
                 f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale", "--no-sync"], run_as, folder)
    pwfile.unlink()
    if done.returncode != 0:
        raise Unavailable(f"initdb failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-600:]}")
    for _ in range(5):  # a free port may be taken by someone else before the server binds it
        port = free_port()
        options = (f"-c port={port} -c listen_addresses={HOST} -c unix_socket_directories='{folder}' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   f"-c max_connections={max_connections}" + (" -c lc_messages=C.UTF-8" if language else ""))
        done = _run([str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "server.log"), "-w",
                     "-t", "60", "-o", options, "start"], run_as, folder, language)
        if done.returncode == 0:
            break
        log = (folder / "server.log").read_text(encoding="utf-8", errors="replace")
        if "could not bind" not in log and "already in use" not in log:
            raise Unavailable(f"pg_ctl start failed ({done.returncode}): {log.strip()[-600:]}")
    else:
        raise Unavailable("no free port for the test server after 5 tries")
    server = Server(folder, bindir, port, superuser_password, clerk_password, run_as, language=language)
    try:
        from psycopg import sql

        with server.connect() as conn:
            server.version = int(conn.info.server_version)
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(CLERK),
                                                                            sql.Literal(clerk_password)))
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def running(language: str | None = None) -> Iterator[Server]:
    server = start(language)
    try:
        yield server
    finally:
        server.stop()
