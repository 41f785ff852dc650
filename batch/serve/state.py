"""The state behind the local page: the register's location, the private workspace and the latest upload."""

from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batch.errors import UnusableInput
from batch.model import Result, RowResult
from batch.system import windows_name_problem
from batch.workspace import Workspace

if TYPE_CHECKING:
    import jinja2

    from batch.register import Status


@dataclass
class Run:
    """An upload: the workbook as the clerk named it, its output folder, and the result."""

    name: str
    folder: Path  # holds the uploaded workbook and the output folder
    output: Path
    result: Result
    only_pending: bool

    def _names(self) -> list[str]:
        return ["overzicht.html", "foutenrapport.html", "foutenrapport.xlsx",
                *(d for r in self.result.rows for d in r.documents)]

    def files(self) -> dict[str, Path]:
        """The files of this run the page may serve, by their path under /uitvoer/."""
        return {name: self.output / name for name in self._names() if (self.output / name).is_file()}

    def file(self, name: str) -> Path | None:
        """One of files(), without looking at all the others on disk."""
        path = self.output / name
        return path if name in self._names() and path.is_file() else None


@dataclass(frozen=True)
class RegisterUpload:
    """A register workbook uploaded to be read back (its dates previewed, then applied): kept in the workspace."""

    key: str  # tells the preview's apply button which upload it applies (its folder's name)
    name: str
    path: Path


_UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def upload_name(given: str | None) -> str:
    """The uploaded file's own name, as messages and the register show it, made safe to save on any system.

    Format characters (Unicode category Cf: the bidi overrides and isolates, zero-width marks) go: a right-to-left
    override would make "werkgevers\u202excod.xlsx" read as "werkgeversxlsx.docx" in a message or a download name.
    """
    given = "".join(c for c in given or "" if unicodedata.category(c) != "Cf")
    name = _UNSAFE_IN_NAMES.sub("_", Path(given.replace("\\", "/")).name).strip(" .") or "werkmap.xlsx"
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    name = f"{stem[:100]}.{suffix}" if suffix else stem[:100].rstrip(" .") or "werkmap"
    # CON.xlsx would be the console on Windows, however it reached the page: saved under another name everywhere
    return f"_{name}" if windows_name_problem(name) else name


def save_private(upload: Any, path: Path) -> None:
    """Save an upload as a new file only this user may read, as everything else in the workspace: created 0600
    rather than saved with the umask's 0644 and narrowed after, so no one else can open it in between."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(descriptor, "wb") as file:
        upload.save(file)


class Page:
    """The state behind the page: the register's location, the workspace and the latest upload."""

    def __init__(self, register: str | None, workspace: Workspace) -> None:
        from batch.render import make_environment

        self.register = register
        self.workspace = workspace
        self.env: jinja2.Environment = make_environment()
        self.busy = threading.Lock()  # one upload at a time
        self.run: Run | None = None
        self._previous: Run | None = None  # kept one upload longer: a page may still be reading its files
        self.register_upload: RegisterUpload | None = None

    def status(self) -> Status:
        from batch.register import status_of

        return status_of(self.register)

    def process(self, upload: Any, only_pending: bool) -> Run:
        """Save the upload and run `process` on it with the register. Call with `busy` held."""
        from batch.pipeline import Options, process
        from batch.register import locate
        from batch.serve.apart import apart

        name = upload_name(upload.filename)
        folder = self.workspace.new_upload()
        source = folder / "invoer" / name
        try:
            source.parent.mkdir(mode=0o700)
            save_private(upload, source)
            options = Options(register=locate(self.register), only_pending=only_pending)
            try:
                result = apart(process, source, folder / "uitvoer", options)  # its memory goes when it ends
            except UnusableInput as exc:  # the messages name the file as the clerk knows it, not our folder
                raise UnusableInput(exc.message.replace(str(source), name), exc.fix.replace(str(source), name)
                                    ) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if self._previous is not None:
            shutil.rmtree(self._previous.folder, ignore_errors=True)
        self._previous, self.run = self.run, Run(name, folder, folder / "uitvoer", result, only_pending)
        return self.run

    def save_register_upload(self, upload: Any) -> RegisterUpload:
        """Keep an uploaded register workbook in the workspace (the one before it goes)."""
        folder = self.workspace.new_upload()
        name = upload_name(upload.filename)
        path = folder / name
        try:
            save_private(upload, path)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.forget_register_upload()
        self.register_upload = RegisterUpload(folder.name, name, path)
        return self.register_upload

    def forget_register_upload(self) -> None:
        if self.register_upload is not None:
            shutil.rmtree(self.register_upload.path.parent, ignore_errors=True)
            self.register_upload = None

    def pending(self, run: Run | None) -> list[tuple[RowResult, str]]:
        """The run's valid werkgevers still to submit (new or changed) with their state, in workbook order. The
        state is read from the register now: a clerk may have marked one elsewhere since."""
        from batch.register import PENDING

        if run is None:
            return []
        states = {e.werkgeverscode: e.state for e in self.status().employers}
        return [(r, states[r.werkgeverscode or ""]) for r in run.result.rows
                if r.status == "valid" and states.get(r.werkgeverscode or "") in PENDING]

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render({"medium": "html", "versie": _version(), **context})


def _version() -> str:
    from batch import __version__

    return f"asr-batch {__version__}"
