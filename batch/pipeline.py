"""read -> normalise/validate: the core entry point shared by `validate` and `process`."""

from __future__ import annotations

from pathlib import Path

from batch.model import Result


def check(path: Path, *, strict: bool = False) -> Result:
    """Read and validate a workbook. Raises UnusableInput when it cannot be used; never prints."""
    from batch.reader import read_table
    from batch.validate import validate_table

    return validate_table(read_table(path), strict=strict)
