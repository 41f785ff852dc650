"""The floor for `process --format html`: read the Werkgevers sheet with python-calamine, one tiny HTML file per row.

Nothing is validated; this is the least work any tool must do for the same output shape, so
`asr-batch process` is measured against it. Usage: python benchmarks/floor.py WORKBOOK OUTPUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from jinja2 import Environment
from python_calamine import CalamineWorkbook

TEMPLATE = "<!doctype html><meta charset=utf-8><h1>{{ naam }}</h1><p>{{ code }}</p>\n"


def main(workbook: Path, output: Path) -> int:
    rows = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("Werkgevers").to_python()
    header = [str(cell) for cell in rows[0]]
    code_at, naam_at = header.index("Werkgeverscode"), header.index("Naam werkgever")
    template = Environment(autoescape=True).from_string(TEMPLATE)
    output.mkdir(parents=True, exist_ok=True)
    for row in rows[1:]:
        code = str(row[code_at])
        html = template.render(naam=row[naam_at], code=code)
        (output / f"{code}.html").write_text(html, encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python benchmarks/floor.py WORKBOOK OUTPUT_DIR")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
