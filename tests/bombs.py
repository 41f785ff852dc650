"""Zip bombs that look like workbooks: a valid werkgevers workbook whose shared strings are padded with strings no
cell uses, so that the file stays small and the part inflates to `unpacked` bytes.

`unique` and `block` set how well the padding compresses: each padding string is `unique` random hex characters and
then a block of `block` characters shared by all of them (0 and 200: ratio ~260, near the review's bomb, 1.3 MB to
500 MB; 32 and 2000: ratio ~65). The part is streamed into the zip: a bomb of 500 MB takes seconds and little memory.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

SHARED_STRINGS = "xl/sharedStrings.xml"
CHUNK = 8 * 1024 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = "[Content_Types].xml"
RELATIONSHIPS = "xl/_rels/workbook.xml.rels"
OVERRIDE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
RELATIONSHIP = (b'<Relationship Id="rIdBomb" Target="sharedStrings.xml" '
                b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')


def inflate_shared_strings(source: Path, target: Path, *, unpacked: int, unique: int = 0, block: int = 2000,
                           seed: int = 26) -> Path:
    """A copy of the workbook `source` whose xl/sharedStrings.xml unpacks to about `unpacked` bytes. The workbook's
    own shared strings (if any) come first, so the indexes its cells use stay; a workbook without them (openpyxl
    writes its strings inline) gets the part and its two references."""
    rng = random.Random(seed)
    shared = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(block))
    count = CHUNK // (block + 20)
    same = "".join(f"<si><t>{shared}</t></si>" for _ in range(count)).encode()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bomb:
        parts = {info.filename: original.read(info.filename) for info in original.infolist()}
        strings = parts.pop(SHARED_STRINGS, None)
        if strings is None:
            strings = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}"></sst>'.encode()
            parts[CONTENT_TYPES] = parts[CONTENT_TYPES].replace(b"</Types>", OVERRIDE + b"</Types>")
            parts[RELATIONSHIPS] = parts[RELATIONSHIPS].replace(b"</Relationships>", RELATIONSHIP + b"</Relationships>")
        for name, data in parts.items():
            bomb.writestr(name, data)
        end = strings.rindex(b"</sst>")
        with bomb.open(SHARED_STRINGS, "w", force_zip64=True) as part:
            part.write(strings[:end])
            written = end
            while written < unpacked:
                chunk = same if not unique else "".join(
                    f"<si><t>{rng.randbytes(unique // 2).hex()}{shared}</t></si>" for _ in range(count)).encode()
                part.write(chunk)
                written += len(chunk)
            part.write(strings[end:])
    return target


def unpacked_size(path: Path, part: str = SHARED_STRINGS) -> int:
    with zipfile.ZipFile(path) as archive:
        return archive.getinfo(part).file_size
