"""`python -m publish release diff OLD NEW --out TILES [--json] [--audience A] [--save DIR]`.

Both releases must exist under TILES/releases/ and pass their manifest's sha256 check; a
release that does not is refused, naming the file. Releases of different cities (catalog
``city.code``) are not compared. Each of these is a PublishError: exit status 2 with the
message (publish.cli).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from publish.errors import ReleaseError
from publish.history.diff import diff_releases
from publish.history.report import summary_table, write_diff
from publish.release.store import ReleaseStore, is_release_id
from publish.release.verify import verify_release

__all__ = ["release_folder", "run_diff"]


def release_folder(store: ReleaseStore, release_id: str) -> Path:
    """The folder of a kept, intact release; ReleaseError naming the id, or the file that
    fails the manifest's sha256 check."""
    path = store.releases / release_id
    if not is_release_id(release_id) or not path.is_dir():
        raise ReleaseError(f"no release {release_id!r} under {store.releases} (see `release list`)")
    problems = verify_release(path)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ReleaseError(
            f"release {release_id} fails its manifest check: {'; '.join(problems[:3])}{more}"
        )
    return path


def run_diff(args: argparse.Namespace) -> int:
    if not args.id or not args.other:
        raise ReleaseError("release diff needs two release ids, OLD and NEW (see `release list`)")
    store = ReleaseStore(Path(args.out))
    old = release_folder(store, args.id)
    new = release_folder(store, args.other)
    diff = diff_releases(old, new, args.audience)
    if args.save:
        json_path, html_path = write_diff(diff, Path(args.save))
        print(f"wrote {json_path} and {html_path}", file=sys.stderr)
    if args.json:
        json.dump(diff.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print("\n".join(summary_table(diff)))
    return 0
