"""Build the two sample workbooks next to this script: `python samples/make_samples.py`.

Both start from `batch.template.build_workbook()` and place values by field key, so they follow the field
table when a column is added or moved. Output is deterministic: fixed document dates and zip timestamps.
"""

from __future__ import annotations

import copy
import io
import sys
import zipfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing the package

from openpyxl import Workbook  # noqa: E402
from openpyxl.writer.excel import ExcelWriter  # noqa: E402

from batch.fields import (  # noqa: E402
    FIELDS,
    JA,
    MAANDELIJKS,
    NEE,
    OFFICE_FIELDS,
    SHEET_OFFICE,
    SHEET_WERKGEVERS,
    VIERWEKELIJKS,
)
from batch.template import build_workbook  # noqa: E402

FIXED_TIME = datetime(2024, 1, 15, 9, 0, 0)
COLUMN = {f.key: index for index, f in enumerate(FIELDS, 1)}
Row = dict[str, object]

OFFICE: dict[str, str] = {
    "naam": "Salarisbureau Van Dijk & Co",
    "contactpersoon": "Sanne van Dijk",
    "email": "sanne@vandijk-salaris.example.nl",
    "telefoon": "030 123 45 67",
    "client_id": "7f3c9a2e-4b1d-4e8a-9c55-1d2e3f4a5b6c",
    "client_secret": "Vd8kQ2mZx7LpR4tN9wYb3cHs",
}
# One employer with its own Web API user (a different user group in Exact).
OWN_CLIENT_ID, OWN_SECRET = "c41d7e90-2f6a-4b83-a1e5-98b0f3d2c7a4", "Qm4Tz9Xe2Rk7Wp1Lc8Vb5Ny3"
SHARED_CLIENT_ID = "5e0b8c13-9a47-4d2f-b6e1-3c7d9f0a2e85"  # appears in two rows of the error sample


def weighted(digits: str, last_weight: int) -> int:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, last_weight)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def is_bsn(digits: str) -> bool:
    return len(digits) == 9 and weighted(digits, -1) % 11 == 0


def loonheffingennummer(start: int) -> str:
    """The first valid number from `start` on. Ending in 0 passes the 11-test with last weight 1 and -1 alike."""
    number = start - start % 10
    while weighted(f"{number:09d}", 1) % 11:
        number += 10
    digits = f"{number:09d}"
    assert weighted(digits, 1) % 11 == 0 and weighted(digits, -1) % 11 == 0
    return f"{digits}L01"


def employer(code: object, naam: str, dga: str, dertiende: str, verloning: str, **rest: object) -> Row:
    return {"werkgeverscode": code, "naam": naam, "dga": dga, "dertiende_maand": dertiende,
            "verloning": verloning, **rest}


VALID_ROWS: list[Row] = [
    employer("0412", "Café 't Hoekje", NEE, NEE, VIERWEKELIJKS),
    employer("1003", "Bakkerij Müller B.V.", JA, JA, MAANDELIJKS, dga_naam="Hans Müller",
             dga_medewerkersnummer="1", kvk_nummer="34127856",
             loonheffingennummer=loonheffingennummer(812345670)),
    employer("1010", "Łukasz Transport B.V.", JA, NEE, MAANDELIJKS,
             dga_naam="Łukasz Nowak; Anna Nowak-de Jong", dga_medewerkersnummer="12; 13",
             opmerkingen="Twee DGA's, beiden al sinds 2019 in loondienst."),
    employer("0087", "Reïntegratiebureau Eëndracht", NEE, JA, MAANDELIJKS, kvk_nummer="61029384",
             loonheffingennummer=loonheffingennummer(853901120)),
    employer("2001", "Hoveniersbedrijf De Groene Vingers", JA, NEE, VIERWEKELIJKS,
             dga_naam="Pieter van den Berg", dga_medewerkersnummer="105"),
    employer("2002", "Tandartspraktijk Zoë Janssen", NEE, JA, MAANDELIJKS, kvk_nummer="70415263"),
    employer("2015", "Schildersbedrijf Brouwer & Zn.", NEE, NEE, VIERWEKELIJKS, client_id=OWN_CLIENT_ID,
             client_secret=OWN_SECRET, opmerkingen="Eigen Web API gebruiker (gebruikersgroep Brouwer)."),
    employer("3100", "Kinderopvang 't Zonnetje", NEE, JA, MAANDELIJKS,
             loonheffingennummer=loonheffingennummer(820554310), opmerkingen="Verloning start per 1 maart."),
    employer("3101", "Installatiebedrijf Peeters", JA, JA, MAANDELIJKS, dga_naam="Roel Peeters",
             dga_medewerkersnummer="7", kvk_nummer="58193027"),
    employer("0999", "Stichting Buurtzorg Oost", NEE, NEE, VIERWEKELIJKS, kvk_nummer="41236570"),
]

BSN_AS_NUMBER = "111222333"
BAD_LOONHEFFINGENNUMMER = "123456781L01"
assert is_bsn(BSN_AS_NUMBER)
assert weighted(BAD_LOONHEFFINGENNUMMER[:9], 1) % 11 and weighted(BAD_LOONHEFFINGENNUMMER[:9], -1) % 11

UNKNOWN_HEADER = "Vestiging"
# Excel row (as the sheet shows it) -> values. Row 11 stays blank on purpose.
ERROR_ROWS: dict[int, Row] = {
    2: employer("1001", "Bakkerij De Korenaar B.V.", NEE, JA, MAANDELIJKS, kvk_nummer="27364519"),
    3: employer("WG-1003", "Drukkerij Peters", NEE, NEE, MAANDELIJKS),
    4: employer("1004", "Autobedrijf Smits", NEE, JA, VIERWEKELIJKS),
    5: employer("1004", "Autobedrijf Smits Ede", NEE, JA, VIERWEKELIJKS),
    6: employer("1006", "", NEE, NEE, MAANDELIJKS),
    7: employer("1007", "Loodgietersbedrijf Kok", JA, JA, MAANDELIJKS),
    8: employer("1008", "Jansen & Jansen Advocaten", JA, NEE, MAANDELIJKS, dga_naam="A. Jansen; B. Jansen",
                dga_medewerkersnummer="21"),
    9: employer("1009", "Bloemenhandel De Boer", NEE, NEE, VIERWEKELIJKS, dga_naam="C. de Boer"),
    10: employer("1010", "Smit Metaalbewerking", JA, JA, MAANDELIJKS, dga_naam="D. Smit",
                 dga_medewerkersnummer=BSN_AS_NUMBER),
    12: employer("1012", "Uitzendbureau Flex", NEE, NEE, "wekelijks"),
    13: employer("1013", "Camping Zeezicht", NEE, NEE, "per kwartaal"),
    14: employer("1014", "Fietsenmaker Van 't Hof", "NEE ", "yes", "per maand"),
    15: employer("1015", "Visser Visgroothandel", "j", "NEE ", "4 weken", dga_naam="E. Visser",
                 dga_medewerkersnummer="3"),
    16: employer("1016", "Schoonmaakbedrijf Glans", NEE, NEE, MAANDELIJKS,
                 client_id="9b2f4c61-0d3e-4a7b 8c5d-6e1f2a3b4c5d", client_secret="Hx5Pq8Lm2Zt7Wc4Rv9Bn"),
    17: employer("1017", "Groenteboer Öztürk", NEE, JA, MAANDELIJKS, client_id=SHARED_CLIENT_ID,
                 client_secret="Ty6Ku3Np8Md1Qs5Fg2Jh"),
    18: employer("1018", "Kapsalon Ünal", NEE, NEE, MAANDELIJKS, client_id=SHARED_CLIENT_ID,
                 client_secret="Ty6Ku3Np8Md1Qs5Fg2Jx"),
    19: employer("1019", "Architectenbureau Lindqvist", NEE, JA, MAANDELIJKS, kvk_nummer="1234567"),
    20: employer("1020", "Dierenkliniek Hoefijzer", NEE, NEE, VIERWEKELIJKS,
                 loonheffingennummer=BAD_LOONHEFFINGENNUMMER),
    21: employer("1021", "Bouwbedrijf Van Leeuwen", NEE, datetime(2024, 12, 1), MAANDELIJKS),
    # Valid: the code typed as a number (Excel stores 1022.0) and an accented name.
    22: employer(1022, "Brasserie IJsselzicht", JA, JA, MAANDELIJKS, dga_naam="F. Mulder",
                 dga_medewerkersnummer="4", loonheffingennummer=loonheffingennummer(801234560)),
}
UNKNOWN_VALUES = {2: "Utrecht", 4: "Ede", 5: "Ede", 17: "Amersfoort"}


def fill_office(wb: Workbook) -> None:
    ws = wb[SHEET_OFFICE]
    for row, office_field in enumerate(OFFICE_FIELDS, 2):
        assert ws.cell(row, 1).value == office_field.label
        ws.cell(row, 2, OFFICE[office_field.key])


def fill_row(wb: Workbook, row: int, values: Row) -> None:
    ws = wb[SHEET_WERKGEVERS]
    for key, value in values.items():
        ws.cell(row, COLUMN[key], value)


def save(wb: Workbook, path: Path) -> None:
    """Save with fixed document dates and zip timestamps so a re-run gives the same bytes."""
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    # ExcelWriter, unlike Workbook.save, does not stamp the current time into the properties.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)


def valid_workbook() -> Workbook:
    wb = build_workbook()
    fill_office(wb)
    for row, values in enumerate(VALID_ROWS, 2):
        fill_row(wb, row, values)
    return wb


def error_workbook() -> Workbook:
    wb = build_workbook()
    fill_office(wb)
    ws = wb[SHEET_WERKGEVERS]
    header = ws.cell(1, 1)
    unknown = ws.cell(1, len(FIELDS) + 1, UNKNOWN_HEADER)
    unknown.font, unknown.fill = copy.copy(header.font), copy.copy(header.fill)
    for row, values in ERROR_ROWS.items():
        fill_row(wb, row, values)
    for row, text in UNKNOWN_VALUES.items():
        ws.cell(row, unknown.column, text)
    return wb


def main() -> None:
    save(valid_workbook(), HERE / "werkgevers.xlsx")
    save(error_workbook(), HERE / "werkgevers-met-fouten.xlsx")
    print(f"geschreven: {HERE / 'werkgevers.xlsx'}, {HERE / 'werkgevers-met-fouten.xlsx'}", file=sys.stderr)


if __name__ == "__main__":
    main()
