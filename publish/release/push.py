"""`release push`: a built release rolled out to every node's tiles folder.

    python -m publish release push --tiles SRC [--release ID] --to TARGET [--to TARGET ...] \
        [--switch-each]

A node serves tiles, styles and (unless they are in a shared PostGIS, `python -m publish postgis`)
features from a tiles folder on its own disk. For each TARGET, a node's tiles folder (a local or
mounted path: an SSH target is not taken — mount the node's folder, e.g. with sshfs or NFS),
the push

1. checks the target: an existing folder that is a tiles folder (`releases/` or `current`), or
   holds nothing but hidden entries (a new node); with room for the release's files;
2. copies the release's files (those its manifest lists, then the manifest) into the target's
   staging area, TARGET/.staging/<id>/ (the build's own), and verifies them there: sizes, the
   sha256 of every file against the manifest, every output's check (`verify_release`). A target
   that already holds releases/<id> whole is not copied again (pushing twice changes nothing);
   one whose releases/<id> is damaged gets a new copy, unless that copy is its current release;
3. renames the staged copy into releases/<id> and switches `current` by renaming a new symlink
   over it, as `release switch` does: a server on the node loads it within its check interval
   and never sees a half-copied release.

Two-phase by default: steps 1–2 on every target first; then the verified copies go into
releases/ on every target; then `current` is switched on every target, only when every target
holds the verified release. A push that fails on any target switches no node: every node keeps
serving its old release (the failed targets' staging is removed, the others' verified copies
too), the push names each target's outcome and exits non-zero. (Only the renames of the last
two steps can fail after that point, e.g. a node's disk gone: a copy already renamed into
releases/ stays there, not current; a target already switched stays switched; the report says
which.) It also means that once any node
serves the new release, every node can answer its release-versioned URLs
(/releases/<id>/tiles/…), so a client that loaded the new style from one node gets its tiles
from any other. `--switch-each` switches each target as soon as its copy is verified (a failed
target still keeps its old release): quicker to reach the healthy nodes, but for a moment nodes
behind one load balancer serve different releases.

Files are copied (content, mode and times), never hard-linked: nodes are separate disks, and a
hard link into a mounted folder of the same filesystem would share one inode between "nodes",
so a damaged file would be damaged on all of them. The nodes keep every release pushed to them;
`release list --tiles TARGET` shows them, `release switch ID --tiles TARGET` rolls one back.

The alternative, one shared tiles folder that every node reads (NFS or another shared
filesystem): build into it (or push to it once) and `release switch` there is the whole rollout,
since each server watches its `current` symlink; the rename is atomic for every reader of the
folder, but each node then depends on the file server for every tile. The per-node push is the
tested way (tests/release/test_push.py). The shared folder is not tested over NFS here; its
mechanism is the one the server tests switch under load on a local disk, one folder read by two
worker processes (tests/server/test_release_switch.py).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from publish.errors import ReleaseError
from publish.release.manifest import MANIFEST, read_manifest
from publish.release.store import CURRENT, RELEASES, STAGING, ReleaseStore, is_release_id
from publish.release.verify import verify_release

Status = Literal["switched", "held back", "failed"]


def copy_file(source: Path, dest: Path) -> None:
    """Copy one file of the release to a target: content, mode and times."""
    shutil.copy2(source, dest)


def free_bytes(folder: Path) -> int:
    """Bytes free for a non-root user on the filesystem holding `folder`."""
    return shutil.disk_usage(folder).free


@dataclass(frozen=True)
class TargetOutcome:
    """What the push did on one target: `switched` (it serves the release), `held back`
    (verified, not switched: another target failed) or `failed` (why: `message`)."""

    target: Path
    status: Status
    message: str
    serving: str | None  # the release the target's `current` names after the push


@dataclass(frozen=True)
class PushReport:
    release_id: str
    outcomes: tuple[TargetOutcome, ...]

    @property
    def failed(self) -> tuple[TargetOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")


@dataclass
class _Node:
    """One target during the push."""

    store: ReleaseStore
    staged: Path | None = None  # the copy in staging, until it is installed or removed
    replace: bool = False  # releases/<id> is a damaged copy, not current: replaced on install
    before: str | None = None  # the release the target served before the push
    done: str = ""  # what was done, for the report
    error: str | None = None

    def attempt(self, step: Callable[[], None]) -> None:
        """Run one step unless an earlier one failed; a failure removes the staged copy."""
        if self.error is not None:
            return
        try:
            step()
        except (ReleaseError, OSError) as exc:
            self.error = str(exc)
            self.discard()

    def discard(self) -> None:
        if self.staged is not None:
            shutil.rmtree(self.staged, ignore_errors=True)
            self.staged = None
        with suppress(OSError):
            (self.store.root / STAGING).rmdir()  # only when empty: a build may use it


def push_release(
    source: Path,
    targets: Sequence[Path],
    *,
    release_id: str | None = None,
    switch_each: bool = False,
) -> PushReport:
    """Copy release `release_id` (default: the source's current one) from the tiles folder
    `source` to each target tiles folder, verify it there and switch every target to it — all
    targets once each has verified it, or (`switch_each`) each as soon as it has. A source that
    cannot be pushed raises ReleaseError; a target that fails is reported in the outcome."""
    nodes = [_Node(ReleaseStore(Path(t))) for t in _distinct(targets)]
    source_store = ReleaseStore(Path(source))
    rid = release_id or source_store.current_id()
    if rid is None:
        raise ReleaseError(f"{source}: no current release (name one with --release ID)")
    if not is_release_id(rid):
        raise ReleaseError(f"{rid!r} is not a release id (like 20261128T140102Z-1a2b3c4d)")
    release = source_store.releases / rid
    if not release.is_dir():
        raise ReleaseError(f"no release {rid} under {source_store.releases}")
    if problems := verify_release(release):
        raise ReleaseError(f"release {rid} under {source} is damaged: " + "; ".join(problems[:5]))
    doc = read_manifest(release)
    try:
        for node in nodes:
            node.attempt(partial(_stage, node, release, doc))
            if switch_each:
                node.attempt(partial(_install, node, rid))
                node.attempt(partial(_switch, node, rid))
        if not switch_each:
            if all(n.error is None for n in nodes):
                for node in nodes:
                    node.attempt(partial(_install, node, rid))
            if all(n.error is None for n in nodes):
                for node in nodes:
                    node.attempt(partial(_switch, node, rid))
    finally:
        for node in nodes:
            node.discard()
    return PushReport(rid, tuple(_outcome(n, rid) for n in nodes))


def _distinct(targets: Sequence[Path]) -> list[Path]:
    if not targets:
        raise ReleaseError("release push needs at least one --to TARGET")
    seen: dict[Path, Path] = {}
    for target in targets:
        key = Path(target).resolve()
        if key in seen:
            raise ReleaseError(f"target {target} is named twice (as {seen[key]})")
        seen[key] = Path(target)
    return list(seen.values())


def _release_files(doc: Mapping[str, Any]) -> list[str]:
    """The release's files as the manifest lists them, the manifest last (so that a copy cut
    short is never taken for a whole release)."""
    files = [*doc["files"], MANIFEST]
    for rel in files:
        path = PurePosixPath(rel)
        if path.is_absolute() or ".." in path.parts:
            raise ReleaseError(f"manifest lists {rel!r}, outside the release")
    return files


def _check_target(root: Path) -> None:
    if not root.exists():
        raise ReleaseError(f"{root} does not exist")
    if not root.is_dir():
        raise ReleaseError(f"{root} is not a folder")
    if (root / RELEASES).is_dir() or (root / CURRENT).is_symlink():
        return
    others = sorted(p.name for p in root.iterdir() if not p.name.startswith("."))
    if others:
        raise ReleaseError(
            f"{root} is not a tiles folder (no {RELEASES}/ or {CURRENT}, but {others[:3]}); "
            "an empty folder is taken as a new node"
        )


def _stage(node: _Node, release: Path, doc: Mapping[str, Any]) -> None:
    """Check the target; copy the release into its staging area and verify it there, unless it
    already holds the release whole."""
    store, rid = node.store, release.name
    _check_target(store.root)
    node.before = store.current_id()
    held = store.releases / rid
    if held.is_dir():
        problems = verify_release(held)
        if not problems:
            node.done = "already held, sha256 verified"
            return
        if store.current_id() == rid:
            raise ReleaseError(
                f"its current release {rid} is damaged ({problems[0]}): switch it to another "
                f"release and remove {held} before pushing it again"
            )
        node.replace = True
    files = _release_files(doc)
    size = sum(int(e["bytes"]) for e in doc["files"].values()) + (release / MANIFEST).stat().st_size
    free = free_bytes(store.root)
    if free < size:
        raise ReleaseError(
            f"no space: the release needs {size / 1e6:.1f} MB, {free / 1e6:.1f} MB free"
        )
    node.staged = store.staging_dir(rid)
    for rel in files:
        dest = node.staged / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        copy_file(release / rel, dest)
    if problems := verify_release(node.staged):
        raise ReleaseError("the copy does not verify: " + "; ".join(problems[:3]))
    node.done = f"copied {len(files)} files, {size / 1e6:.1f} MB, sha256 verified"


def _install(node: _Node, rid: str) -> None:
    if node.staged is None:
        return
    if node.replace:
        node.store.remove(rid)
    node.store.install(node.staged, rid)
    node.staged = None


def _switch(node: _Node, rid: str) -> None:
    if node.store.current_id() != rid:
        node.store.point_current(rid)


def _outcome(node: _Node, rid: str) -> TargetOutcome:
    serving = node.store.current_id()
    if node.error is not None:
        return TargetOutcome(node.store.root, "failed", node.error, serving)
    if serving != rid:
        why = f"{node.done}; not switched: another target failed"
        return TargetOutcome(node.store.root, "held back", why, serving)
    if node.before == rid:
        was = "it was already current"
    else:
        was = f"it served {node.before}" if node.before else "it served no release"
    return TargetOutcome(node.store.root, "switched", f"{node.done}; {was}", serving)


# -- the command ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`release push`'s options, on the `release` command (its --tiles is the source)."""
    parser.add_argument(
        "--to", action="append", metavar="TARGET", help="push: a node's tiles folder (repeat)"
    )
    parser.add_argument(
        "--release", metavar="ID", help="push: the release to push (default: the current one)"
    )
    parser.add_argument(
        "--switch-each",
        action="store_true",
        help="push: switch each target once verified (default: all once all verified)",
    )


def run_push(args: argparse.Namespace) -> int:
    """Push, print each target's outcome; raise ReleaseError (exit status 2) if any failed."""
    if args.id or args.other:
        raise ReleaseError("release push names its release with --release ID")
    report = push_release(
        Path(args.out),
        [Path(t) for t in args.to or ()],
        release_id=args.release,
        switch_each=args.switch_each,
    )
    for o in report.outcomes:
        serving = f"serves {o.serving}" if o.serving else "serves no release"
        print(f"{o.status:9s}  {o.target}  {o.message}; {serving}")
    if report.failed:
        names = ", ".join(str(o.target) for o in report.failed)
        served = sum(o.status == "switched" for o in report.outcomes)
        raise ReleaseError(
            f"release {report.release_id} failed on {names} "
            f"({served} of {len(report.outcomes)} targets serve it)"
        )
    print(f"release {report.release_id} is current on {len(report.outcomes)} target(s)")
    return 0
