"""Make the fonts in batch/fonts from DejaVu 2.37 (Debian's fonts-dejavu-core): a developer's tool, not run by users.

    pip install fonttools
    python tools/make_fonts.py /usr/share/fonts/truetype/dejavu

Every character of the originals stays; what goes is what a PDF never uses and Typst would subset and compress
for every document again: the hinting instructions (screen rendering at small sizes), the PostScript glyph
names, and the license text in the name table (name ID 13: 9.5 KB in each font, copied whole into every
embedded subset, two thirds of it). The license stays beside the fonts in LICENSE-DejaVu.txt, and the fonts
keep their copyright notice (ID 0) and the license's address (ID 14). A PDF is 25 instead of 45 KB, and a
document is typeset about a seventh faster (benchmarks/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

LICENSE_TEXT = 13  # the OpenType name ID of the license description
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
TARGET = Path(__file__).resolve().parent.parent / "batch" / "fonts"


def main(source: Path) -> None:
    licenses: dict[str, list[str]] = {}
    for name in FONTS:
        font = TTFont(source / name, recalcTimestamp=False)
        licenses.setdefault(font["name"].getDebugName(LICENSE_TEXT), []).append(name)
        options = subset.Options()
        options.hinting = False
        options.glyph_names = False
        options.layout_features = ["*"]
        options.name_IDs = [i for i in range(256) if i != LICENSE_TEXT]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=font.getBestCmap().keys())
        subsetter.subset(font)
        font.save(TARGET / name)
        print(f"{name}: {len(font.getBestCmap())} characters, {(TARGET / name).stat().st_size:,} bytes")
    parts = [f"The license of {', '.join(names)}, as the fonts state it (OpenType name ID {LICENSE_TEXT}):\n\n"
             f"{text.strip()}\n" for text, names in licenses.items()]
    parts.insert(0, "DejaVu fonts 2.37 (https://dejavu-fonts.github.io/) in batch/fonts, made by tools/make_fonts.py "
                    "from Debian's fonts-dejavu-core.\n")
    (TARGET / "LICENSE-DejaVu.txt").write_text("\n\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
