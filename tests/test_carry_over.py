"""A re-run into the same output folder (issue 25): with --only-pending the earlier documents of werkgevers already
submitted or confirmed come along into the new folder when they hold today's data; every other earlier document
is listed with the reason it left with the old folder, in every report. On SQLite and PostgreSQL (the register
decides what is pending and names the documents)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult, WorkbookBuilder, numbered_rows, run_cli, valid_row
from register_backends import Backend

from batch import register as registry

pytestmark = pytest.mark.usefixtures("backend")
AS_INSTALLED = [sys.executable, "-c", "from batch.cli import run; run()"]


def process(path: Path, out: Path, *args: object) -> CliResult:
    result = run_cli("process", path, "-o", out, "--format", "html", *args)
    assert result.exit_code == 0, result.output
    return result


def rows_of(out: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))
    return {r["werkgeverscode"]: r for r in data["rows"]}


def on_disk(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "aanmeldingen").iterdir())


def documents_listed(code: str) -> list[str]:
    result = run_cli("status", "--json")
    assert result.exit_code == 0, result.output
    (found,) = [e for e in json.loads(result.stdout)["employers"] if e["werkgeverscode"] == code]
    return found["documents"]  # type: ignore[no-any-return]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_only_pending_into_the_same_folder_carries_the_earlier_documents_over(
        make_workbook: WorkbookBuilder, tmp_path: Path, backend: Backend) -> None:
    """The issue's run: two werkgevers marked submitted, then --only-pending into the same -o."""
    workbook, out = make_workbook(numbered_rows(4)), tmp_path / "uit"
    assert run_cli("process", workbook, "-o", out).exit_code == 0  # html and pdf, as a clerk runs it
    earlier = {name: digest(out / "aanmeldingen" / name) for name in on_disk(out)}
    assert run_cli("mark", "submitted", "1001", "1002").exit_code == 0
    result = run_cli("process", workbook, "-o", out, "--only-pending")
    assert result.exit_code == 0, result.output
    assert on_disk(out) == sorted(earlier)  # nothing lost
    for name in ("1001-werkgever-1001.html", "1001-werkgever-1001.pdf", "1002-werkgever-1002.pdf"):
        assert digest(out / "aanmeldingen" / name) == earlier[name]  # the very documents submitted
        assert (out / "aanmeldingen" / name).stat().st_mode & 0o777 == 0o600
    assert "--only-pending: 2 werkgevers al aangemeld of bevestigd, zonder nieuw document; hun eerdere aanmelding " \
           "is meegenomen uit de vorige uitvoer." in result.stderr
    assert "Niet meegenomen" not in result.stderr
    rows = rows_of(out)
    assert rows["1001"]["documents"] == ["aanmeldingen/1001-werkgever-1001.html",
                                         "aanmeldingen/1001-werkgever-1001.pdf"]
    assert rows["1001"]["carried_over"] is True and rows["1001"]["register_state"] == "submitted"
    assert "carried_over" not in rows["1003"] and rows["1003"]["documents"]
    sentence = ("Van de 4 geldige werkgevers kregen 2 een nieuwe aanmelding; van 2 is de eerdere aanmelding meegenomen "
                "uit de vorige uitvoer")
    report = (out / "foutenrapport.html").read_text(encoding="utf-8")
    assert sentence in report and "Alle 4 geldige werkgevers" not in report
    overview = (out / "overzicht.html").read_text(encoding="utf-8")
    assert sentence in overview and overview.count("eerdere aanmelding, meegenomen uit de vorige uitvoer") == 2
    assert documents_listed("1001") == [str(out / "aanmeldingen" / "1001-werkgever-1001.html"),
                                        str(out / "aanmeldingen" / "1001-werkgever-1001.pdf")]
    # Nothing new recorded for them: the register already named them.
    assert backend.rows("select count(*) from documents where werkgeverscode = '1001'") == [(2,)]


def test_a_document_made_from_other_data_is_never_carried_over(make_workbook: WorkbookBuilder,
                                                               tmp_path: Path) -> None:
    """Data A submitted, B run into the folder (changed: a new document), back to A: submitted again, but the
    folder's document holds B."""
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(2)), out)
    assert run_cli("mark", "submitted", "1001").exit_code == 0
    process(make_workbook(numbered_rows(2, verloning="4-wekelijks"), name="b.xlsx"), out, "--only-pending")
    held_b = digest(out / "aanmeldingen" / "1001-werkgever-1001.html")
    result = process(make_workbook(numbered_rows(2), name="a.xlsx"), out, "--only-pending")
    assert on_disk(out) == ["1002-werkgever-1002.html"]
    row = rows_of(out)["1001"]
    assert row["register_state"] == "submitted" and row["documents"] == [] and "carried_over" not in row
    assert row["register_note"] == ("al aangemeld: geen nieuw document; eerdere aanmelding niet meegenomen: gemaakt "
                                    "met andere gegevens dan de werkmap nu heeft")
    assert "Niet meegenomen uit de vorige uitvoer: 1 eerder document (1: gemaakt met andere gegevens dan de werkmap " \
           "nu heeft); de lijst staat in overzicht.html." in result.stderr
    left = json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["not_carried_over"]
    assert left == [{"document": "aanmeldingen/1001-werkgever-1001.html", "werkgeverscode": "1001",
                     "reason": "gemaakt met andere gegevens dan de werkmap nu heeft"}]
    overview = (out / "overzicht.html").read_text(encoding="utf-8")
    assert "Niet meegenomen uit de vorige uitvoer" in overview and "1001-werkgever-1001.html" in overview
    assert "Van de 2 geldige werkgevers kreeg 1 een nieuwe aanmelding; 1 kreeg geen aanmelding in deze map" in \
        (out / "foutenrapport.html").read_text(encoding="utf-8")
    assert held_b and documents_listed("1001") == []  # status names no file that is gone


def test_a_renamed_werkgever_keeps_no_document_under_its_old_name(make_workbook: WorkbookBuilder,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(2)), out)
    assert run_cli("mark", "submitted", "1001").exit_code == 0
    renamed = [valid_row(werkgeverscode="1001", naam="Nieuwe Naam B.V."), *numbered_rows(1, start=1002)]
    result = process(make_workbook(renamed, name="hernoemd.xlsx"), out, "--only-pending")
    assert on_disk(out) == ["1002-werkgever-1002.html"]
    assert rows_of(out)["1001"]["register_note"] == ("al aangemeld: geen nieuw document; eerdere aanmelding niet "
                                                     "meegenomen: de naam van de werkgever is gewijzigd")
    assert "(1: de naam van de werkgever is gewijzigd)" in result.stderr


def test_a_plain_rerun_lists_the_documents_of_werkgevers_gone_from_the_workbook(make_workbook: WorkbookBuilder,
                                                                               tmp_path: Path) -> None:
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(3)), out)
    rows = [*numbered_rows(1), valid_row(werkgeverscode="1002", naam="Werkgever 1002", verloning="soms")]
    result = run_cli("process", make_workbook(rows, name="minder.xlsx"), "-o", out, "--format", "html")
    assert result.exit_code == 1  # 1002 is invalid now
    assert on_disk(out) == ["1001-werkgever-1001.html"]
    assert "Niet meegenomen uit de vorige uitvoer: 2 eerdere documenten (1: de rij van de werkgever is nu ongeldig " \
           "of overgeslagen; 1: de werkgever staat niet meer in de werkmap)" in result.stderr \
        or "Niet meegenomen uit de vorige uitvoer: 2 eerdere documenten (1: de werkgever staat niet meer in de " \
           "werkmap; 1: de rij van de werkgever is nu ongeldig of overgeslagen)" in result.stderr
    left = {d["werkgeverscode"]: d["reason"]
            for d in json.loads((out / "resultaat.json").read_text(encoding="utf-8"))["not_carried_over"]}
    assert left == {"1002": "de rij van de werkgever is nu ongeldig of overgeslagen",
                    "1003": "de werkgever staat niet meer in de werkmap"}
    assert documents_listed("1003") == []  # still recorded, but status names only files that are there
    # A plain re-run of the same workbook leaves nothing behind and says nothing about it.
    again = run_cli("process", make_workbook(rows, name="minder.xlsx"), "-o", out, "--format", "html")
    assert "Niet meegenomen" not in again.stderr
    assert "not_carried_over" not in json.loads((out / "resultaat.json").read_text(encoding="utf-8"))


def test_a_folder_without_a_ledger_carries_nothing_over_and_says_why(make_workbook: WorkbookBuilder,
                                                                     tmp_path: Path) -> None:
    """An output folder made by an earlier asr-batch (its marker holds no ledger): nothing says what data its
    documents hold."""
    workbook, out = make_workbook(numbered_rows(2)), tmp_path / "uit"
    process(workbook, out)
    (out / ".asr-batch-uitvoer").write_text("asr-batch 0.1.0\n", encoding="utf-8")
    assert run_cli("mark", "submitted", "1001").exit_code == 0
    result = process(workbook, out, "--only-pending")
    assert on_disk(out) == ["1002-werkgever-1002.html"]
    assert rows_of(out)["1001"]["register_note"].endswith("niet na te gaan met welke gegevens het is gemaakt (vorige "
                                                          "uitvoer zonder register of van een oudere versie)")
    assert "1 eerder document" in result.stderr


def test_a_colleagues_mark_during_the_run_keeps_the_earlier_document(make_workbook: WorkbookBuilder, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A colleague marks 1002 submitted while this --only-pending run makes its document: the new one goes, the
    earlier one of the same data (in the folder being replaced) comes along."""
    workbook, out = make_workbook(numbered_rows(3)), tmp_path / "uit"
    process(workbook, out)
    earlier = digest(out / "aanmeldingen" / "1002-werkgever-1002.html")
    real = registry.Register.record

    def colleague_first(self: registry.Register, *args: Any, **kwargs: Any) -> dict[str, str]:
        done = subprocess.run([*AS_INSTALLED, "mark", "submitted", "1002"], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return real(self, *args, **kwargs)

    monkeypatch.setattr(registry.Register, "record", colleague_first)
    result = process(workbook, out, "--only-pending")
    assert on_disk(out) == ["1001-werkgever-1001.html", "1002-werkgever-1002.html", "1003-werkgever-1003.html"]
    assert digest(out / "aanmeldingen" / "1002-werkgever-1002.html") == earlier
    row = rows_of(out)["1002"]
    assert row["carried_over"] is True and row["register_state"] == "submitted"
    assert row["register_note"] == ("tijdens deze run aangemeld (door een collega): het nieuwe document is "
                                    "weggehaald, de eerdere aanmelding meegenomen")
    assert "Let op: 1002 intussen aangemeld of bevestigd door een collega" in result.stderr
    assert "1 werkgever al aangemeld of bevestigd, zonder nieuw document; hun eerdere aanmelding is meegenomen" \
        in result.stderr


def test_a_document_a_purge_deletes_during_the_run_is_not_carried_over(make_workbook: WorkbookBuilder,
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """1001 confirmed; its earlier document is carried over, then a purge deletes it (and the register forgets it)
    before this run records: the new folder must not keep a copy the register no longer names."""
    workbook, out = make_workbook(numbered_rows(2)), tmp_path / "uit"
    process(workbook, out)
    assert run_cli("mark", "confirmed", "1001", "--first-exchange", "2026-12-15").exit_code == 0
    real = registry.Register.record

    def purge_first(self: registry.Register, *args: Any, **kwargs: Any) -> dict[str, str]:
        done = subprocess.run([*AS_INSTALLED, "purge"], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return real(self, *args, **kwargs)

    monkeypatch.setattr(registry.Register, "record", purge_first)
    result = process(workbook, out, "--only-pending")
    assert on_disk(out) == ["1002-werkgever-1002.html"]
    row = rows_of(out)["1001"]
    assert row["documents"] == [] and row["register_note"].endswith("intussen verwijderd door een opruimactie (purge)")
    assert "1: intussen verwijderd door een opruimactie (purge)" in result.stderr


@pytest.mark.sqlite_only
def test_where_no_hard_link_can_be_made_the_document_is_copied_owner_only(make_workbook: WorkbookBuilder,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A network share or FAT stick takes no hard link: the earlier document is copied, owner-only, even when
    someone made the earlier file readable for others."""
    workbook, out = make_workbook(numbered_rows(2)), tmp_path / "uit"
    process(workbook, out)
    earlier = out / "aanmeldingen" / "1001-werkgever-1001.html"
    earlier.chmod(0o644)
    content = earlier.read_bytes()
    assert run_cli("mark", "submitted", "1001").exit_code == 0

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr("os.link", no_link)
    process(workbook, out, "--only-pending")
    copied = out / "aanmeldingen" / "1001-werkgever-1001.html"
    assert copied.read_bytes() == content and copied.stat().st_mode & 0o777 == 0o600
    assert rows_of(out)["1001"]["carried_over"] is True


def test_the_register_claims_no_document_that_left_with_the_old_folder(make_workbook: WorkbookBuilder,
                                                                         tmp_path: Path, backend: Backend) -> None:
    out = tmp_path / "uit"
    process(make_workbook(numbered_rows(2)), out)
    assert run_cli("mark", "confirmed", "1002", "--first-exchange", "2026-12-15").exit_code == 0
    process(make_workbook(numbered_rows(1), name="een.xlsx"), out)  # 1002 left the workbook: its document goes
    assert on_disk(out) == ["1001-werkgever-1001.html"] and documents_listed("1002") == []
    purged = run_cli("purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stderr.startswith("0 documenten verwijderd.")
    # A shared register keeps the path (it might be another computer's disk), and says it is not found here.
    assert ("niet gevonden op deze computer" in purged.stderr) == (backend.name == "postgresql")
    assert not (out / "aanmeldingen" / "1002-werkgever-1002.html").exists()
