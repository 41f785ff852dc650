"""Make the screenshots of docs/handleiding.md: the real server and Debian's Chromium, as the browser tests use them.

    python docs/make_screenshots.py

Needs Debian's `chromium` (the page's date fields are text, dd-mm-jjjj, in any browser language). Starts
`asr-batch serve` with a register of its own in a temporary folder (never the user's), walks the monthly routine
with the sample workbooks and writes docs/img/*.png.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, served  # noqa: E402  (the browser tests' own setup)

IMAGES = ROOT / "docs" / "img"
SAMPLES = ROOT / "samples"


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, served(Path(folder) / "register.sqlite", Path(folder)) as url, \
            chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 860})

        def shot(name: str, *, full: bool = False) -> None:
            page.screenshot(path=str(IMAGES / f"{name}.png"), full_page=full)
            print(IMAGES / f"{name}.png")

        page.goto(url)
        shot("1-start")

        page.set_input_files("input[type=file][name=werkmap]", str(SAMPLES / "werkgevers-met-fouten.xlsx"))
        page.get_by_role("button", name="Controleren en verwerken").click()
        page.wait_for_url("**/resultaat")
        page.locator("table.rijen tr[data-status=invalid]").first.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        shot("2-resultaat-met-fouten")

        # the corrected workbook
        page.get_by_role("link", name="Werkmap", exact=True).click()
        page.set_input_files("input[type=file][name=werkmap]", str(SAMPLES / "werkgevers.xlsx"))
        page.get_by_role("button", name="Controleren en verwerken").click()
        page.wait_for_url("**/resultaat")
        shot("3-resultaat")

        page.get_by_role("link", name="Werkbank", exact=True).click()
        page.get_by_role("button", name="Kopieer Client ID").click()
        shot("4-werkbank")

        for _ in range(3):
            page.locator("section[data-werkgeverscode] [data-action=submitted]").click()
            page.wait_for_load_state()
        page.get_by_role("link", name="Register", exact=True).click()
        first = page.locator("tr[data-state=submitted]").first
        first.locator("input[name=first_exchange]").fill(f"{date.today() + timedelta(days=8):%d-%m-%Y}")
        shot("5-register")

        first.locator("[data-action=confirmed]").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Bekijk welke aanmeldingen").click()
        shot("6-opruimen")


if __name__ == "__main__":
    main()
