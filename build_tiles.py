#!/usr/bin/env python3
"""Build a release: `python build_tiles.py --catalog layers.yml --out tiles [--only ID ...] [--keep N]`.

The same as `python -m publish build`; see README ("The build") for what it writes.
Exit status: 0 published, 2 error (nothing published), 3 refused by the review (nothing published).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from publish.cli import main

    sys.exit(main(["build", *sys.argv[1:]]))
