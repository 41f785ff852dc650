"""Make the screenshots of the printed workbooks in docs/handleiding.md: each workbook asr-batch writes, printed to
PDF by LibreOffice and rendered by pdftoppm, as a clerk would see it come out of the printer.

    python docs/make_sheet_screenshots.py [--all]

Needs LibreOffice (`soffice`, Debian's libreoffice-calc-nogui) and pdftoppm (poppler-utils); CI needs neither.
Runs asr-batch with a register of its own in a temporary folder (never the user's), on the sample workbooks, and
writes docs/img/7-toelichting.png, 8-fouten.png and 9-registerwerkmap.png. With --all it keeps every page of every
workbook in the temporary folder's pages/ and says where, to look at them all before a release.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404  (our own fixed commands)
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"
SAMPLES = ROOT / "samples"
RESOLUTION = "80"  # dpi: an A4 page about 940 pixels wide, readable on the guide's page


def run(*args: str | Path, env: dict[str, str], cwd: Path) -> None:
    subprocess.run([str(a) for a in args], check=True, env=env, cwd=cwd,  # noqa: S603  # nosec B603
                   stdout=subprocess.DEVNULL)


def pages(workbook: Path, folder: Path, env: dict[str, str]) -> list[Path]:
    """The workbook's printed pages as PNG files, in order."""
    run("soffice", "--headless", "--convert-to", "pdf", "--outdir", folder, workbook, env=env, cwd=folder)
    pdf = folder / f"{workbook.stem}.pdf"
    run("pdftoppm", "-png", "-r", RESOLUTION, pdf, folder / workbook.stem, env=env, cwd=folder)
    return sorted(folder.glob(f"{workbook.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def main() -> None:
    keep_all = "--all" in sys.argv[1:]
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt install libreoffice-calc-nogui poppler-utils)")
    folder = Path(tempfile.mkdtemp(prefix="asr-batch-sheets-"))
    env = {**os.environ, "ASR_BATCH_REGISTER": str(folder / "register.sqlite"),
           "ASR_BATCH_CONFIG_DIR": str(folder / "config"), "HOME": str(folder)}  # LibreOffice's profile too
    asr_batch = [sys.executable, "-c", "from batch.cli import run; run()"]
    run(*asr_batch, "template", folder / "asr-werkgevers.xlsx", env=env, cwd=folder)
    run(*asr_batch, "process", SAMPLES / "werkgevers.xlsx", "-o", folder / "goed", "--format", "html", "-q",
        env=env, cwd=folder)
    subprocess.run([*asr_batch, "process", SAMPLES / "werkgevers-met-fouten.xlsx", "-o",  # noqa: S603  # nosec B603
                    folder / "fouten", "--format", "html", "-q", "--no-register"], check=False, env=env, cwd=folder)
    run(*asr_batch, "mark", "submitted", "1003", "1010", "--on", "2026-11-03", env=env, cwd=folder)
    run(*asr_batch, "mark", "confirmed", "1003", "--on", "2026-11-20", "--first-exchange", "2026-12-15",
        env=env, cwd=folder)
    run(*asr_batch, "status", "--xlsx", folder / "registerwerkmap.xlsx", env=env, cwd=folder)

    shown = folder / "pages"
    shown.mkdir()
    template = pages(folder / "asr-werkgevers.xlsx", shown, env)
    errors = pages(folder / "fouten" / "foutenrapport.xlsx", shown, env)
    register = pages(folder / "registerwerkmap.xlsx", shown, env)
    IMAGES.mkdir(exist_ok=True)
    # The Toelichting's first page; the Fouten sheet is the copy's last sheet, so its first page comes after the
    # pages of the office's own sheets: the first page in landscape whose text starts with the sheet's header.
    chosen = {"7-toelichting": template[0], "8-fouten": _fouten_page(errors, shown, env),
              "9-registerwerkmap": register[0]}
    for name, page in chosen.items():
        shutil.copyfile(page, IMAGES / f"{name}.png")
        print(IMAGES / f"{name}.png")
    if keep_all:
        print(f"every page: {shown}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def _fouten_page(errors: list[Path], folder: Path, env: dict[str, str]) -> Path:
    """The first page of sheet Fouten: the page whose text holds its header row."""
    pdf = folder / "foutenrapport.pdf"
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    for number, page in enumerate(errors, start=1):
        text = subprocess.run([pdftotext, "-f", str(number), "-l", str(number), str(pdf), "-"],  # noqa: S603  # nosec
                              check=True, capture_output=True, text=True, env=env).stdout
        if "Oplossing" in text and "Melding" in text:
            return page
    return errors[-1]


if __name__ == "__main__":
    main()
