"""Make the fonts in batch/fonts from DejaVu 2.37 (Debian's fonts-dejavu-core): a developer's tool, not run by users.

    pip install fonttools
    python tools/make_fonts.py /usr/share/fonts/truetype/dejavu

Every character of the originals stays; what goes is what a PDF never uses and Typst would subset and compress
for every document again: the hinting instructions (screen rendering at small sizes) and the PostScript glyph
names. The files shrink by a quarter, a PDF by a third (30 instead of 45 KB) and a document is typeset
some 5% faster (benchmarks/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf")
TARGET = Path(__file__).resolve().parent.parent / "batch" / "fonts"


def main(source: Path) -> None:
    for name in FONTS:
        font = TTFont(source / name, recalcTimestamp=False)
        options = subset.Options()
        options.hinting = False
        options.glyph_names = False
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=font.getBestCmap().keys())
        subsetter.subset(font)
        font.save(TARGET / name)
        print(f"{name}: {len(font.getBestCmap())} characters, {(TARGET / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
