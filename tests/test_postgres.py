"""A register on a PostgreSQL server: its URL, its driver, its password and its faults.

These need no server. The register's whole behaviour on a real one is test_register.py, run against both SQLite and
PostgreSQL.
"""

from __future__ import annotations

import socket
import sys

import pytest
from conftest import run_cli

from batch.register import locate

PASSWORD = "Geheim-Wachtwoord-0x5e"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("given", "shown"), [
    (f"postgresql://klerk:{PASSWORD}@db.kantoor/asr", "postgresql://klerk@db.kantoor/asr"),
    (f"postgresql+psycopg://klerk:{PASSWORD}@db.kantoor:5433/asr", "postgresql://klerk@db.kantoor:5433/asr"),
    (f"postgres://klerk:{PASSWORD}@db.kantoor/asr", "postgresql://klerk@db.kantoor/asr"),
    (f"postgresql://klerk@db.kantoor/asr?password={PASSWORD}&sslmode=require",
     "postgresql://klerk@db.kantoor/asr?sslmode=require"),
    ("postgresql:///asr", "postgresql:///asr"),
])
def test_a_server_url_is_spoken_through_psycopg_and_shown_without_its_password(given: str, shown: str) -> None:
    location = locate(given)
    assert location.url.drivername == "postgresql+psycopg" and location.path is None and location.shared
    assert location.shown == shown


def test_a_server_out_of_reach_is_exit_2_and_never_shows_the_password() -> None:
    port = free_port()  # nothing listens there
    result = run_cli("status", "--register", f"postgresql://klerk:{PASSWORD}@127.0.0.1:{port}/asr")
    assert result.exit_code == 2, result.output
    assert f"Kan de PostgreSQL-server op 127.0.0.1:{port} niet bereiken" in result.stderr
    assert PASSWORD not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", [f"postgresql+psycopg2://klerk:{PASSWORD}@db/asr",
                                 f"mysql://klerk:{PASSWORD}@db/asr"])
def test_other_drivers_and_databases_are_refused_clearly(url: str) -> None:
    result = run_cli("status", "--register", url)
    assert result.exit_code == 2 and "postgresql://gebruiker@server/database" in result.stderr
    assert PASSWORD not in result.output


def test_without_the_driver_a_server_url_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails, as where it is not installed
    for args in (("status",), ("mark", "submitted", "1001")):
        result = run_cli(*args, "--register", f"postgresql://klerk:{PASSWORD}@db.kantoor/asr")
        assert result.exit_code == 2 and "pip install 'asr-batch[postgres]'" in result.stderr
        assert PASSWORD not in result.output and "Traceback" not in result.output


def test_a_malformed_server_url_never_shows_its_password() -> None:
    result = run_cli("status", "--register", f"postgresql://klerk:{PASSWORD}@db:poort/asr")
    assert result.exit_code == 2 and "geen geldig adres" in result.stderr and PASSWORD not in result.output
