"""Deterministic benchmark workloads: a clean workbook of N werkgevers in the template's layout."""

from __future__ import annotations

import random
from pathlib import Path

from openpyxl import Workbook

from batch.fields import FIELDS, OFFICE_FIELDS, SHEET_OFFICE, SHEET_WERKGEVERS

FIRST = ["Jan", "Anna", "Piet", "Fatima", "Łukasz", "Zoë", "Mehmet", "Eva", "Daan", "Sanne"]
LAST = ["de Vries", "Jansen", "Öztürk", "Bakker", "Müller", "van Dijk", "Smit", "El Amrani", "Visser", "Bos"]
TRADE = ["Bakkerij", "Installatiebedrijf", "Café", "Transport", "Adviesbureau", "Kapsalon", "Bouwbedrijf"]


def _lhn(rng: random.Random) -> str:
    from batch.values import elfproef

    while True:
        digits = f"{rng.randrange(10**8, 10**9)}"
        if elfproef(digits):
            return f"{digits}L01"


def write_workload(path: Path, rows: int, *, seed: int = 20261129) -> Path:
    """~30% of the werkgevers have a DGA; credentials come from the office sheet."""
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    office = wb.create_sheet(SHEET_OFFICE)
    office.append(["Gegeven", "Waarde"])
    values = {"naam": "Salarisbureau Benchmark", "contactpersoon": "B. Enchmark", "email": "bench@example.nl",
              "telefoon": "010-1234567", "client_id": "bench-client-0001", "client_secret": "BenchSecret-9f8e7d6c"}
    for f in OFFICE_FIELDS:
        office.append([f.label, values[f.key]])
    sheet = wb.create_sheet(SHEET_WERKGEVERS)
    sheet.append([f.header for f in FIELDS])
    for i in range(rows):
        dga = rng.random() < 0.3
        record = {
            "werkgeverscode": f"{10000 + i}",
            "naam": f"{rng.choice(TRADE)} {rng.choice(LAST)} {i} B.V.",
            "dga": "Ja" if dga else "Nee",
            "dga_naam": f"{rng.choice(FIRST)} {rng.choice(LAST)}" if dga else None,
            "dga_medewerkersnummer": str(rng.randrange(1, 5000)) if dga else None,
            "dertiende_maand": rng.choice(["Ja", "Nee"]),
            "verloning": rng.choice(["Maandelijks", "4-wekelijks"]),
            "kvk_nummer": f"{rng.randrange(10**7, 10**8)}",
            "loonheffingennummer": _lhn(rng),
            "opmerkingen": None,
        }
        sheet.append([record.get(f.key) for f in FIELDS])
    wb.save(path)
    return path


def write_full_workload(path: Path, rows: int, *, seed: int = 20261129) -> Path:
    """The most text a werkgevers workbook holds: every one of the twelve columns filled, each werkgever with a Web
    API user of its own, a DGA on every row, names of some 80 and remarks of some 140 characters. batch/limits.py
    and batch/cell_text.py set their limits from this workbook, saved as openpyxl writes it and as LibreOffice
    saves it (.xlsx with shared strings, as Excel does, and .ods)."""
    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    office = wb.create_sheet(SHEET_OFFICE)
    office.append(["Gegeven", "Waarde"])
    for f in OFFICE_FIELDS:
        office.append([f.label, {"email": "bench@example.nl", "telefoon": "010-1234567"}.get(f.key, "Benchmark")])
    sheet = wb.create_sheet(SHEET_WERKGEVERS)
    sheet.append([f.header for f in FIELDS])

    def words(length: int) -> str:
        text = ""
        while len(text) < length:
            text += f"{rng.choice(TRADE)} {rng.choice(LAST)} "
        return text[:length].strip()

    for i in range(rows):
        record = {
            "werkgeverscode": f"{10000 + i}",
            "naam": f"{words(70)} {i} B.V.",
            "client_id": f"{rng.getrandbits(128):032x}"[:8] + f"-web-api-{i:06d}",
            "client_secret": f"{rng.getrandbits(160):040x}",
            "dga": "Ja",
            "dga_naam": f"{rng.choice(FIRST)} {words(72)}",
            "dga_medewerkersnummer": str(rng.randrange(1, 5000)),
            "dertiende_maand": rng.choice(["Ja", "Nee"]),
            "verloning": rng.choice(["Maandelijks", "4-wekelijks"]),
            "kvk_nummer": f"{rng.randrange(10**7, 10**8)}",
            "loonheffingennummer": _lhn(rng),
            "opmerkingen": words(140),
        }
        sheet.append([record.get(f.key) for f in FIELDS])
    wb.save(path)
    return path
