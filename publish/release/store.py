"""The release folder: DIR/releases/<id>/, DIR/current → releases/<id>, and the staging area.

A build writes into DIR/.staging/<id>/ and, when everything is written and checked, renames that
folder into DIR/releases/ and replaces the `current` symlink by renaming a new symlink over it
(rename is atomic on POSIX). Until that last rename, `current` and every earlier release are
untouched, so a build killed at any point changes nothing a server or client sees.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from publish.domain import INTERNAL
from publish.errors import ReleaseError
from publish.release.manifest import read_manifest
from publish.release.verify import verify_release

RELEASES = "releases"
CURRENT = "current"
STAGING = ".staging"
_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def new_release_id(content_hash: str, now: datetime | None = None) -> str:
    """UTC time plus a short content hash, e.g. 20261128T140102Z-1a2b3c4d (sorts by time)."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{content_hash[:8]}"


def is_release_id(text: str) -> bool:
    return bool(_ID.match(text))


@dataclass(frozen=True)
class ReleaseInfo:
    id: str
    path: Path
    current: bool
    created: str | None
    layers: int
    bytes: int
    note: str | None = None
    author: str | None = None
    changes: str | None = None  # one line: what changed since the release it replaced (all layers)


class ReleaseStore:
    """The releases under one output folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def releases(self) -> Path:
        return self.root / RELEASES

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT

    def current_id(self) -> str | None:
        try:
            target = os.readlink(self.current_link)
        except (FileNotFoundError, OSError):
            return None
        return Path(target).name

    def current_path(self) -> Path | None:
        rid = self.current_id()
        return None if rid is None else self.releases / rid

    def ids(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir() if is_release_id(p.name))

    def describe(self) -> list[ReleaseInfo]:
        current = self.current_id()
        out = []
        for rid in self.ids():
            path = self.releases / rid
            try:
                doc = read_manifest(path)
            except ReleaseError:
                continue
            size = sum(int(f.get("bytes", 0)) for f in doc.get("files", {}).values())
            out.append(
                ReleaseInfo(
                    rid,
                    path,
                    rid == current,
                    doc.get("created"),
                    len(doc.get("layers", {})),
                    size,
                    note=doc.get("note"),
                    author=doc.get("author"),
                    changes=((doc.get("changes") or {}).get("summary") or {}).get(INTERNAL),
                )
            )
        return out

    # -- writing ---------------------------------------------------------------------------------

    def staging_dir(self, release_id: str) -> Path:
        path = self.root / STAGING / release_id
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    def clean_staging(self) -> None:
        """Remove what killed builds left in the staging area."""
        shutil.rmtree(self.root / STAGING, ignore_errors=True)

    def commit(self, staged: Path, release_id: str) -> Path:
        """Move a complete staged release into releases/ and make it current."""
        final = self.install(staged, release_id)
        self.point_current(release_id)
        return final

    def install(self, staged: Path, release_id: str) -> Path:
        """Move a complete staged release into releases/ (`current` unchanged)."""
        problems = verify_release(staged, digests=False)
        if problems:
            raise ReleaseError(f"staged release {release_id} is incomplete: " + "; ".join(problems))
        self.releases.mkdir(parents=True, exist_ok=True)
        final = self.releases / release_id
        if final.exists():
            raise ReleaseError(f"release {release_id} already exists")
        _fsync_tree(staged)
        os.rename(staged, final)
        _fsync_dir(self.releases)
        return final

    def switch(self, release_id: str) -> Path:
        """Make an existing, intact release current (rollback or roll forward)."""
        if not is_release_id(release_id):
            raise ReleaseError(
                f"{release_id!r} is not a release id (like 20261128T140102Z-1a2b3c4d)"
            )
        path = self.releases / release_id
        if not path.is_dir():
            raise ReleaseError(f"no release {release_id} under {self.releases}")
        problems = verify_release(path)
        if problems:
            raise ReleaseError(f"release {release_id} is damaged: " + "; ".join(problems[:5]))
        self.point_current(release_id)
        return path

    def point_current(self, release_id: str) -> None:
        """Point `current` at releases/<id> by renaming a new symlink over it (atomic). The
        caller has checked the release (`switch` does; `release push` verified it)."""
        tmp = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(Path(RELEASES) / release_id, tmp)
        os.replace(tmp, self.current_link)
        _fsync_dir(self.root)

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest releases so that `keep` remain; the current one is always kept."""
        if keep < 1:
            raise ReleaseError(f"--keep must be at least 1, got {keep}")
        current = self.current_id()
        ids = self.ids()
        doomed = [rid for rid in ids[: max(0, len(ids) - keep)] if rid != current]
        for rid in doomed:
            self.remove(rid)
        return doomed

    def remove(self, release_id: str) -> None:
        """Delete releases/<id> (never the current one: the caller's to check). Renamed into
        the staging area first, so a half-deleted folder never looks like a release."""
        trash = self.root / STAGING / f"deleting-{release_id}"
        shutil.rmtree(trash, ignore_errors=True)  # left by an interrupted removal
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.releases / release_id, trash)
        shutil.rmtree(trash, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))
