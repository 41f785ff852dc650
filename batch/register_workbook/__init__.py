"""The register as a workbook that goes out and comes back: `status --xlsx` writes it, the clerk fills in the dates
a.s.r.'s mails bring (Aangemeld op; Bevestigd op with Eerste uitwisseling), and `mark --from` (or the register
page) applies them, all or nothing.

- `layout`: what both sides agree on: the sheets, the columns, the marker and version, the register's identity;
- `writing`: the workbook: the visible sheet (protected, but for the date cells) and the hidden sheet that holds
  each row as it was written;
- `reading`: the file back, recognised (or refused) and read cell by cell;
- `checking`: the dates the clerk added or changed, and every problem by its cell;
- `marking`: the whole round trip's second half against the register, and what it says.

It writes no SQL: the register applies the changes in one transaction (`Register.mark_dated`).
"""

from batch.register_workbook.marking import MarkedFrom, mark_from, mark_from_lines
from batch.register_workbook.writing import export_register

__all__ = ["MarkedFrom", "export_register", "mark_from", "mark_from_lines"]
