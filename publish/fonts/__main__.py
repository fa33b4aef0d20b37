"""`python -m publish.fonts [FOLDER]`: generate the label glyphs (when missing or stale) into
FOLDER (a server's is <data folder>/glyphs; default: the user's cache) and print where."""

import sys
from pathlib import Path

from publish.fonts.glyphs import glyphs_dir, use_glyphs_dir

if __name__ == "__main__":
    if len(sys.argv) > 2 or sys.argv[1:2] in (["-h"], ["--help"]):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    if len(sys.argv) == 2:
        use_glyphs_dir(Path(sys.argv[1]))
    print(glyphs_dir())
