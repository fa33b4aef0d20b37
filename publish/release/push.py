"""`release push`: a built release rolled out to every node's tiles folder.

    python -m publish release push --tiles SRC [--release ID] --to TARGET [--to TARGET ...] \
        [--switch-each] [--ssh "ssh -p 2222 -i KEY"] [--remote-python PY]

A node serves tiles, styles and (unless they are in a shared PostGIS, `python -m publish postgis`)
features from a tiles folder on its own disk. For each TARGET, a node's tiles folder — a local or
mounted path, or `[user@]host:/path` over SSH, where each step below runs on the node with its
own installed package (publish.release.ssh; `--ssh`, `--remote-python`) — the push (its steps on
one target: publish.release.node)

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
tested way (tests/release/test_push.py; over SSH, tests/release/test_push_ssh.py). The shared folder is not tested over NFS here; its
mechanism is the one the server tests switch under load on a local disk, one folder read by two
worker processes (tests/server/test_release_switch.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from publish.errors import ReleaseError
from publish.release.manifest import MANIFEST, read_manifest
from publish.release.node import LocalTarget, Target
from publish.release.ssh import SshOptions, SshTarget, looks_like_ssh
from publish.release.store import ReleaseStore, is_release_id
from publish.release.verify import verify_release

Status = Literal["switched", "held back", "failed"]


@dataclass(frozen=True)
class TargetOutcome:
    """What the push did on one target: `switched` (it serves the release), `held back`
    (verified, not switched: another target failed) or `failed` (why: `message`)."""

    target: str  # as named: a path, or [user@]host:/path
    status: Status
    message: str
    serving: str | None  # the release the target's `current` names after the push
    serving_known: bool = True  # False: the target could not be asked (e.g. unreachable)


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

    target: Target
    staged: bool = False  # a copy is in its staging area, until installed or removed
    replace: bool = False  # releases/<id> is a damaged copy, not current: replaced on install
    before: str | None = None  # the release the target served before the push
    done: str = ""  # what was done, for the report
    error: str | None = None
    rid: str = ""  # the release pushed

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
        if not self.staged:
            return
        self.staged = False
        try:
            self.target.discard(self.rid)
        except (ReleaseError, OSError) as exc:
            self.done += f"; its staging could not be cleaned ({exc})"


def push_release(
    source: Path,
    targets: Sequence[Path | str],
    *,
    release_id: str | None = None,
    switch_each: bool = False,
    ssh: SshOptions | None = None,
) -> PushReport:
    """Copy release `release_id` (default: the source's current one) from the tiles folder
    `source` to each target tiles folder (a path, or `[user@]host:/path` reached with `ssh`),
    verify it there and switch every target to it — all targets once each has verified it, or
    (`switch_each`) each as soon as it has. A source that cannot be pushed, or a target that
    cannot be read as one, raises ReleaseError; a target that fails is reported in the
    outcome."""
    nodes = [_Node(t) for t in _distinct(targets, ssh or SshOptions())]
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
            node.rid = rid
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


def target_of(text: Path | str, ssh: SshOptions) -> Target:
    """A target named on the command line: `[user@]host:/path` is an SSH target, anything
    else a folder here."""
    if isinstance(text, str) and looks_like_ssh(text):
        return SshTarget(text, ssh)
    return LocalTarget(Path(text))


def _distinct(targets: Sequence[Path | str], ssh: SshOptions) -> list[Target]:
    if not targets:
        raise ReleaseError("release push needs at least one --to TARGET")
    seen: dict[object, Target] = {}
    for text in targets:
        target = target_of(text, ssh)
        if target.key in seen:
            raise ReleaseError(f"target {text} is named twice (as {seen[target.key].name})")
        seen[target.key] = target
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


def _stage(node: _Node, release: Path, doc: Mapping[str, Any]) -> None:
    """Check the target; copy the release into its staging area and verify it there, unless it
    already holds the release whole."""
    rid = release.name
    files = _release_files(doc)
    size = sum(int(e["bytes"]) for e in doc["files"].values()) + (release / MANIFEST).stat().st_size
    prepared = node.target.prepare(rid, size)
    node.before = prepared.before
    if prepared.held:
        node.done = "already held, sha256 verified"
        return
    node.replace = prepared.replace
    node.staged = True
    node.target.receive(release, files)
    node.target.verify(rid)
    node.done = f"copied {len(files)} files, {size / 1e6:.1f} MB, sha256 verified"


def _install(node: _Node, rid: str) -> None:
    if not node.staged:
        return
    node.target.install(rid, node.replace)
    node.staged = False


def _switch(node: _Node, rid: str) -> None:
    node.target.switch(rid)


def _outcome(node: _Node, rid: str) -> TargetOutcome:
    name = node.target.name
    try:
        serving, known = node.target.current_id(), True
    except (ReleaseError, OSError):
        serving, known = None, False
    if node.error is not None:
        return TargetOutcome(name, "failed", node.error, serving, known)
    if serving != rid:
        why = f"{node.done}; not switched: another target failed"
        return TargetOutcome(name, "held back", why, serving, known)
    if node.before == rid:
        was = "it was already current"
    else:
        was = f"it served {node.before}" if node.before else "it served no release"
    return TargetOutcome(name, "switched", f"{node.done}; {was}", serving)


# -- the command ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`release push`'s options, on the `release` command (its --tiles is the source)."""
    parser.add_argument(
        "--to",
        action="append",
        metavar="TARGET",
        help="push: a node's tiles folder, a path or [user@]host:/path (repeat)",
    )
    parser.add_argument(
        "--release", metavar="ID", help="push: the release to push (default: the current one)"
    )
    parser.add_argument(
        "--switch-each",
        action="store_true",
        help="push: switch each target once verified (default: all once all verified)",
    )
    parser.add_argument(
        "--ssh",
        metavar="COMMAND",
        help="push: the ssh command for host:/path targets, e.g. 'ssh -p 2222 -i KEY' "
        "(else $PUBLISH_SSH_COMMAND, else ssh)",
    )
    parser.add_argument(
        "--remote-python",
        metavar="PATH",
        help="push: the Python the package is installed for on the nodes "
        "(else $PUBLISH_REMOTE_PYTHON, else python3)",
    )


def run_push(args: argparse.Namespace) -> int:
    """Push, print each target's outcome; raise ReleaseError (exit status 2) if any failed."""
    if args.id or args.other:
        raise ReleaseError("release push names its release with --release ID")
    from publish.server.settings import env_value

    ssh = SshOptions.from_text(
        args.ssh or env_value("SSH_COMMAND"), args.remote_python or env_value("REMOTE_PYTHON")
    )
    report = push_release(
        Path(args.out),
        list(args.to or ()),
        release_id=args.release,
        switch_each=args.switch_each,
        ssh=ssh,
    )
    for o in report.outcomes:
        serving = f"serves {o.serving}" if o.serving else "serves no release"
        if not o.serving_known:
            serving = "its current release could not be read"
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
