"""The connection to the register, SQLite or PostgreSQL: how a transaction begins, how long a command waits for
another, and the session settings on a server."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from batch.register.location import Location

LOCK_TIMEOUT = float(os.environ.get("ASR_BATCH_REGISTER_TIMEOUT", "15"))  # seconds to wait for another command
CONNECT_TIMEOUT = 10  # seconds: a database server that is down or out of reach never keeps a command hanging

# The session settings of every connection to a register on a server:
# - search_path: the tables live in the database's `public` schema, whoever connects; a role with a schema of its
#   own (PostgreSQL's "$user" first in the default search_path) would otherwise make a register of its own;
# - statement_timeout: a server that stops answering in the middle of a command ends that command (exit 2) rather
#   than keep it, and with it the writers' lock, forever;
# - idle_in_transaction_session_timeout: a clerk's computer that went to sleep halfway a write frees the lock.
SESSION = "-c search_path=public -c statement_timeout=300000 -c idle_in_transaction_session_timeout=600000"


def engine_for(location: Location) -> Engine:
    return _postgres_engine(location) if location.shared else _sqlite_engine(location)


def _sqlite_engine(location: Location) -> Engine:
    engine = sa.create_engine(location.url, connect_args={"timeout": LOCK_TIMEOUT}, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A write takes the lock when it starts: two writers then wait for each other instead of one failing
        # when it turns its read into a write. EXCLUSIVE also waits for the readers to finish, so that the commit
        # after the swap of an output folder cannot be kept waiting by one (process: Register.record).
        lock = connection.info.get("write")
        connection.exec_driver_sql(f"BEGIN {lock}" if lock in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN")

    return engine


def _postgres_engine(location: Location) -> Engine:
    # One connection per transaction, as on SQLite (NullPool): a command runs a few, and none is left open.
    connect_args: dict[str, object] = {
        "application_name": "asr-batch",  # IT sees who is connected
        "options": SESSION,
        # a server gone from the network is noticed in about a minute, not after the system's two hours
        "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
        "tcp_user_timeout": 60_000,
    }
    if "connect_timeout" not in location.url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    engine = sa.create_engine(location.url, connect_args=connect_args, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A reading sees the register at one moment (a snapshot), as a reading of the SQLite file does; it never
        # waits for a writer and never keeps one waiting (PostgreSQL's MVCC), so EXCLUSIVE needs no counterpart.
        # A write stays READ COMMITTED: it takes the writers' lock first (schema.lock_for_writing), and then every
        # statement sees what the writers before it committed.
        # Both are set here, whatever the server's or the database's defaults say (a default of SERIALIZABLE would
        # make a writer that waited for the lock fail instead of going on).
        if connection.info.get("write") is None:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE")
        # Wait for another command's lock as long as on SQLite, then give up (exit 2, "bezet"); SET LOCAL.
        timeout = f"{max(1, round(LOCK_TIMEOUT * 1000))}ms"
        connection.execute(sa.select(sa.func.set_config("lock_timeout", timeout, True)))

    return engine
