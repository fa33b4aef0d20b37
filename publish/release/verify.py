"""Is a release whole? Its files as the manifest lists them, then every output's own check
(publish.release.outputs): archives sound, styles and stores holding only their audience's
layers, configurations pointing inside the release."""

from __future__ import annotations

from pathlib import Path

from publish.errors import ReleaseError
from publish.release.manifest import read_manifest, verify_files
from publish.release.outputs import RELEASE_OUTPUTS


def verify_release(root: Path, *, digests: bool = True) -> list[str]:
    """What is wrong with the release at `root` ([] if nothing): missing, resized or
    (`digests`) altered files first; when the files are whole, each output's problems."""
    root = Path(root)
    try:
        doc = read_manifest(root)
    except ReleaseError as exc:
        return [str(exc)]
    problems = verify_files(root, doc, digests=digests)
    if problems:
        return problems
    for output in RELEASE_OUTPUTS:
        for part in output.parts(root, doc):
            try:
                found = output.check(part)
            except ReleaseError as exc:
                found = [str(exc)]
            where = f"{output.key} ({part.audience})" if part.audience else output.key
            problems += [f"{where}: {p}" for p in found]
    return problems
