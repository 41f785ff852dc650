"""Which failure a PostgreSQL server gave, told by its SQLSTATE, psycopg's error class and, for a failed connection
attempt, by asking again: never by the wording of a message, which the server and libpq translate (a German
server says "Passwort-Authentifizierung ... fehlgeschlagen"). faults.py says each in Dutch.

psycopg gives a failed connection attempt no SQLSTATE (libpq keeps it to itself), only the attempt's libpq
connection (`exc.pgconn`): whether a password was asked for and whether one was sent. The rest is found out on the
failure path only, so a register that works pays nothing: does the server answer at all (libpq's PQping, which
tells "no answer" and "starting up or shutting down" apart from the rest by the server's SQLSTATE), and can the
same user, with the same password, connect to the server's maintenance database? If so, that database tells
whether the register's database exists, may be connected to, and has a connection free. Each probe is bounded by
a timeout.

What this cannot tell apart is said as such: refused before any password (pg_hba.conf, or not one connection
slot left on the server), or refused after the password for every database (a wrong password or user, or only
the superuser's reserved connections left)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from batch.register import engines
from batch.register.location import Location

if TYPE_CHECKING:
    from psycopg import pq

PING_TIMEOUT = 3  # seconds: a server that answers at all answers within milliseconds


class Fault(enum.Enum):
    BUSY = enum.auto()  # a lock held too long, a conflict, a deadlock
    SLOW = enum.auto()  # a statement or an idle transaction ran out of time
    UNREACHABLE = enum.auto()  # no server at that name and port, or the connection broke
    NO_PASSWORD = enum.auto()  # the server asks a password and none was given
    WRONG_PASSWORD = enum.auto()  # the password or the user is wrong
    NOT_ADMITTED = enum.auto()  # pg_hba.conf does not let this user from this computer into this database
    NO_CONNECT_RIGHT = enum.auto()  # the database exists, but this user may not connect to it
    MISSING_DATABASE = enum.auto()  # the register's database does not exist
    REFUSED = enum.auto()  # refused before any password: pg_hba.conf, no connection free, starting or stopping
    REFUSED_AFTER_PASSWORD = enum.auto()  # a wrong password or user, or a database missing or closed to this user
    PASSWORD_OR_FULL = enum.auto()  # a wrong password or user, or no connection free but the superuser's
    STARTING = enum.auto()  # the server is starting up or shutting down
    NO_CREATE_RIGHT = enum.auto()  # no right to create the register's tables
    NO_WRITE_RIGHT = enum.auto()  # the tables are there, and this user may not change them
    INCOMPLETE = enum.auto()  # a table or a column of the register is missing
    TOO_MANY = enum.auto()  # no connection free
    DISK_FULL = enum.auto()  # the server's disk is full
    READ_ONLY_SERVER = enum.auto()  # the server only reads: a standby, or a server in recovery
    UNKNOWN = enum.auto()  # none of these


# SQLSTATEs (PostgreSQL's appendix A) of a failure on an open connection, or of a connection attempt should a
# later psycopg report one. 42501 is looked at apart: creating the tables, or changing them?
_STATES = {
    "55P03": Fault.BUSY, "40001": Fault.BUSY, "40P01": Fault.BUSY,  # lock_not_available, serialization, deadlock
    "57014": Fault.SLOW, "25P03": Fault.SLOW,  # statement_timeout, idle_in_transaction_session_timeout
    "3D000": Fault.MISSING_DATABASE, "28P01": Fault.WRONG_PASSWORD, "28000": Fault.NOT_ADMITTED,
    "42P01": Fault.INCOMPLETE, "42703": Fault.INCOMPLETE,  # undefined table, undefined column
    "53300": Fault.TOO_MANY, "53100": Fault.DISK_FULL, "25006": Fault.READ_ONLY_SERVER,
    "57P03": Fault.STARTING,  # cannot_connect_now
}
_UNREACHABLE_CLASSES = ("08", "57P")  # connection exceptions; the server shut down or ended this session


def diagnose(location: Location, exc: BaseException, *, invalidated: bool = False) -> Fault:
    """What went wrong, from the driver's exception `exc` (SQLAlchemy's `.orig`); `invalidated`: SQLAlchemy found
    the connection broken (`DBAPIError.connection_invalidated`)."""
    import psycopg

    state = getattr(exc, "sqlstate", None) or ""
    if state == "42501":  # insufficient_privilege
        return Fault.NO_WRITE_RIGHT if _tables_exist(location) else Fault.NO_CREATE_RIGHT
    if state in _STATES:
        return _STATES[state]
    if state.startswith(_UNREACHABLE_CLASSES):
        return Fault.UNREACHABLE
    if state:
        return Fault.UNKNOWN
    if isinstance(exc, psycopg.OperationalError):
        if exc.pgconn is not None:  # psycopg attaches the libpq connection to a failed connection attempt only
            return _attempt(exc.pgconn)
        return Fault.UNREACHABLE  # the server's name unknown (psycopg resolves it first), or the connection lost
    return Fault.UNREACHABLE if invalidated else Fault.UNKNOWN


def _attempt(pgconn: pq.abc.PGconn) -> Fault:
    """A failed connection attempt, which carries no SQLSTATE."""
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    if pgconn.needs_password:
        return Fault.NO_PASSWORD
    params = _parameters(pgconn)
    answer = pq.PGconn.ping(make_conninfo("", **{**params, "connect_timeout": str(PING_TIMEOUT)}).encode())
    if answer == pq.Ping.REJECT:
        return Fault.STARTING
    if answer != pq.Ping.OK:
        return Fault.UNREACHABLE
    return _ask_maintenance_database(params, used_password=bool(pgconn.used_password))


def _parameters(pgconn: pq.abc.PGconn) -> dict[str, str]:
    """The attempt's connection parameters as libpq worked them out (the URL, PG* variables, service file), with
    the password it sent (from ~/.pgpass too): the probes ask as the same user, never as anyone else."""
    params = {option.keyword.decode(): option.val.decode() for option in pgconn.info
              if option.val is not None and option.keyword != b"password"}
    if pgconn.password:
        params["password"] = pgconn.password.decode()
    return params


# Whether the register's database exists, may be connected to, and has a connection free. Any user may read this.
_DATABASE = ("SELECT d.datallowconn, has_database_privilege(d.oid, 'CONNECT'), d.datconnlimit, "
             "(SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid) FROM pg_database d WHERE d.datname = %s")


def _ask_maintenance_database(params: dict[str, str], *, used_password: bool) -> Fault:
    """The server listens, yet refused: connect as the same user to the maintenance database (`postgres`, which
    every server has; `template1` when the register's database is `postgres` itself) and ask there."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    database = params.get("dbname") or params.get("user") or ""
    probe = make_conninfo("", **{**params, "dbname": "template1" if database == "postgres" else "postgres",
                                 "connect_timeout": str(max(2, engines.CONNECT_TIMEOUT // 2))})
    try:
        with psycopg.connect(probe, autocommit=True) as conn:
            row: Any = conn.execute(_DATABASE, (database,)).fetchone()
    except psycopg.OperationalError as exc:
        if not used_password:
            return Fault.REFUSED  # refused before any password was asked: the same for any database
        if exc.pgconn is not None and exc.pgconn.used_password:
            return Fault.PASSWORD_OR_FULL  # the same password refused for the maintenance database too
        return Fault.REFUSED_AFTER_PASSWORD  # pg_hba.conf keeps this user out of the maintenance database
    except psycopg.Error:
        return Fault.UNKNOWN
    if row is None:
        return Fault.MISSING_DATABASE
    allowed, may_connect, limit, connected = row
    if not allowed or not may_connect:
        return Fault.NO_CONNECT_RIGHT
    if 0 <= limit <= connected:
        return Fault.TOO_MANY
    return Fault.NOT_ADMITTED  # the server lets this user into its maintenance database, not into this one


def _tables_exist(location: Location) -> bool:
    """Are the register's tables there (then a right to change them is missing), or was it creating them?"""
    engine = engines.engine_for(location)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.to_regclass("public.meta").is_not(None))).scalar() is True
    except sa.exc.SQLAlchemyError:
        return True
    finally:
        engine.dispose()
