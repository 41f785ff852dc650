"""The result object: what a run found, row by row. The CLI, resultaat.json and every report render it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from batch import __version__
from batch.catalogue import Issue, Severity

Status = Literal["valid", "invalid", "skipped"]
STATUS_NL: dict[str, str] = {"valid": "geldig", "invalid": "ongeldig", "skipped": "overgeslagen"}
# A werkgever's state in the register (batch/register/): JSON code and Dutch label.
REGISTER_STATES: dict[str, str] = {"new": "nieuw", "submitted": "aangemeld", "confirmed": "bevestigd",
                                   "changed": "gewijzigd", "queried": "navragen", "ended": "beëindigd"}
MEDIA = ("html", "pdf")  # the document formats, in the order a row lists its documents


@dataclass(frozen=True)
class Dga:
    naam: str
    medewerkersnummer: str


@dataclass
class RowResult:
    row: int  # the row number Excel shows
    status: Status
    werkgeverscode: str | None
    issues: list[Issue] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    reason: str | None = None  # why a row was skipped
    # Normalised values by field key (secrets included: only documents may show them).
    record: dict[str, str | None] = field(default_factory=dict, repr=False)
    dgas: list[Dga] = field(default_factory=list)
    register_state: str | None = None  # the row's state in the register after this run (batch/register/)
    # Why the row has no document, or not the one expected, beyond its state (Dutch): a colleague's mark during
    # the run, an earlier document not carried over (carry_over.py).
    register_note: str | None = None
    carried_over: bool = False  # `documents` are the earlier output's, carried over into this one (--only-pending)

    @property
    def naam(self) -> str | None:
        return self.record.get("naam")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "row": self.row,
            "status": self.status,
            "werkgeverscode": self.werkgeverscode,
            "naam": self.naam,
            "documents": list(self.documents),
            "issues": [i.to_dict() for i in self.issues],
        }
        if self.reason:
            out["reason"] = self.reason
        if self.register_state:
            out["register_state"] = self.register_state
        if self.register_note:
            out["register_note"] = self.register_note
        if self.carried_over:
            out["carried_over"] = True
        return out


@dataclass(frozen=True)
class LeftBehind:
    """A document of the output folder a run replaced that is not in the new one: it left with the old folder."""

    document: str  # relative to the output folder, as `documents` are
    werkgeverscode: str | None  # None: no werkgever it could be traced to
    reason: str  # Dutch, one of a few fixed phrases (carry_over.py), so that the terminal can count them

    def to_dict(self) -> dict[str, object]:
        return {"document": self.document, "werkgeverscode": self.werkgeverscode, "reason": self.reason}


@dataclass(frozen=True)
class InputInfo:
    file: str  # file name only
    sha256: str
    sheet: str
    header_row: int

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "sha256": self.sha256, "sheet": self.sheet, "header_row": self.header_row}


@dataclass(frozen=True)
class Office:
    """The Salarisverwerker sheet. `client_secret` is secret: only documents may show it."""

    values: dict[str, str | None]

    def get(self, key: str) -> str | None:
        return self.values.get(key)


@dataclass
class Result:
    input: InputInfo
    rows: list[RowResult]
    file_issues: list[Issue]
    office: Office
    strict: bool = False
    generated_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    tool_version: str = __version__
    left_behind: list[LeftBehind] = field(default_factory=list)  # the earlier output's documents not carried over

    @property
    def counts(self) -> dict[str, int]:
        statuses = [r.status for r in self.rows]
        issues = [i for r in self.rows for i in r.issues] + self.file_issues
        return {
            "rows": len(self.rows),
            "valid": statuses.count("valid"),
            "invalid": statuses.count("invalid"),
            "skipped": statuses.count("skipped"),
            "errors": sum(i.severity is Severity.ERROR for i in issues),
            "warnings": sum(i.severity is Severity.WARNING for i in issues),
        }

    @property
    def document_counts(self) -> tuple[int, int, int, int]:
        """Of the valid rows: how many, how many got a new document, how many their earlier one carried over from
        the folder this run replaced, how many none (--only-pending: already submitted or confirmed)."""
        valid = [r for r in self.rows if r.status == "valid"]
        carried = sum(r.carried_over for r in valid)
        new = sum(bool(r.documents) for r in valid) - carried
        return len(valid), new, carried, len(valid) - new - carried

    @property
    def all_issues(self) -> list[Issue]:
        return [*self.file_issues, *(i for r in self.rows for i in r.issues)]

    @property
    def exit_code(self) -> int:
        """0 when every employer row is valid; 1 when any row is invalid or there are no employer rows."""
        counts = self.counts
        return 0 if counts["valid"] > 0 and counts["invalid"] == 0 else 1

    def to_dict(self) -> dict[str, object]:
        """The resultaat.json object (schema_version 1). Holds no secret: records are left out."""
        return {
            "schema_version": 1,
            "tool_version": self.tool_version,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "strict": self.strict,
            "input": self.input.to_dict(),
            "counts": self.counts,
            "rows": [r.to_dict() for r in self.rows],
            "file_issues": [i.to_dict() for i in self.file_issues],
            **({"not_carried_over": [d.to_dict() for d in self.left_behind]} if self.left_behind else {}),
        }
