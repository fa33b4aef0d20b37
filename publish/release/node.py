"""A node's tiles folder as `release push` sees it: the steps of a push on one target.

`LocalTarget` runs them on a folder of this machine (a local or mounted path); an SSH target
(publish.release.ssh) runs the same steps on the node, through `python -m publish release-node
STEP --tiles DIR --release ID` there, which calls `LocalTarget` and prints its answer as one line
of JSON (errors: `error: …` on stderr, exit status 2, like every command). The steps, in order:

    prepare  check the folder (a tiles folder, or one holding nothing but hidden entries: a new
             node); tell the release it serves and whether it already holds the one pushed,
             whole (sha256 verified: nothing to copy); otherwise check the room for `bytes` and
             make an empty staging folder, DIR/.staging/<id>/ (the build's own)
    receive  the release's files into that staging folder (`receive_tar`: a tar stream, on the
             node; the data filter keeps every member inside the folder)
    verify   the staged copy: sizes, every sha256 against the manifest, every output's check
    install  rename the staged copy into releases/<id> (first removing a damaged releases/<id>
             that prepare found, never the current release)
    switch   rename a new `current` symlink over the old one (atomic)
    discard  remove what is left in staging (a failed or finished push)
    status   the release `current` names
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tarfile
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from publish.errors import ReleaseError
from publish.release.store import CURRENT, RELEASES, STAGING, ReleaseStore, is_release_id
from publish.release.verify import verify_release


def copy_file(source: Path, dest: Path) -> None:
    """Copy one file of the release to a target: content, mode and times."""
    shutil.copy2(source, dest)


def free_bytes(folder: Path) -> int:
    """Bytes free for a non-root user on the filesystem holding `folder`."""
    return shutil.disk_usage(folder).free


@dataclass(frozen=True)
class Prepared:
    """What `prepare` found: the release served before the push; `held`: the release pushed is
    there whole already; `replace`: a damaged copy of it is there (not current), to replace."""

    before: str | None
    held: bool = False
    replace: bool = False


class Target(Protocol):
    """A node's tiles folder, here or over SSH."""

    @property
    def name(self) -> str:
        """The target as the user named it (printed in the report)."""

    @property
    def key(self) -> object:
        """Equal for two names of one folder."""

    def prepare(self, rid: str, size: int) -> Prepared: ...

    def receive(self, release: Path, files: Sequence[str]) -> None: ...

    def verify(self, rid: str) -> None: ...

    def install(self, rid: str, replace: bool) -> None: ...

    def switch(self, rid: str) -> None: ...

    def discard(self, rid: str) -> None: ...

    def current_id(self) -> str | None: ...


class LocalTarget:
    """A tiles folder on this machine (or mounted on it)."""

    def __init__(self, root: Path) -> None:
        self.store = ReleaseStore(Path(root))

    @property
    def name(self) -> str:
        return str(self.store.root)

    @property
    def key(self) -> object:
        return self.store.root.resolve()

    def staged(self, rid: str) -> Path:
        return self.store.root / STAGING / rid

    def check(self) -> None:
        root = self.store.root
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

    def prepare(self, rid: str, size: int) -> Prepared:
        self.check()
        store = self.store
        before = store.current_id()
        replace = False
        held = store.releases / rid
        if held.is_dir():
            problems = verify_release(held)
            if not problems:
                return Prepared(before, held=True)
            if before == rid:
                raise ReleaseError(
                    f"its current release {rid} is damaged ({problems[0]}): switch it to another "
                    f"release and remove {held} before pushing it again"
                )
            replace = True
        free = free_bytes(store.root)
        if free < size:
            raise ReleaseError(
                f"no space: the release needs {size / 1e6:.1f} MB, {free / 1e6:.1f} MB free"
            )
        store.staging_dir(rid)
        return Prepared(before, replace=replace)

    def receive(self, release: Path, files: Sequence[str]) -> None:
        staged = self.staged(release.name)
        for rel in files:
            dest = staged / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_file(release / rel, dest)

    def receive_tar(self, rid: str, stream: IO[bytes]) -> None:
        """Unpack a tar stream of the release's files into its staging folder (made by
        `prepare`); members that would land outside it are refused."""
        staged = self.staged(rid)
        if not staged.is_dir():
            raise ReleaseError(f"{staged} is missing (prepare the push first)")
        if not hasattr(tarfile, "data_filter"):  # added in 3.11.4
            raise ReleaseError("receiving a release needs Python 3.11.4 or newer on the node")
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                tar.extractall(staged, filter="data")
        except (tarfile.TarError, EOFError) as exc:
            raise ReleaseError(f"the copy sent to {staged} is unreadable: {exc}") from exc

    def verify(self, rid: str) -> None:
        if problems := verify_release(self.staged(rid)):
            raise ReleaseError("the copy does not verify: " + "; ".join(problems[:3]))

    def install(self, rid: str, replace: bool) -> None:
        if replace:
            if self.store.current_id() == rid:
                raise ReleaseError(f"will not replace {rid}: it is the current release")
            self.store.remove(rid)
        self.store.install(self.staged(rid), rid)
        self._tidy_staging()

    def switch(self, rid: str) -> None:
        if self.store.current_id() != rid:
            self.store.point_current(rid)

    def discard(self, rid: str) -> None:
        shutil.rmtree(self.staged(rid), ignore_errors=True)
        self._tidy_staging()

    def _tidy_staging(self) -> None:
        with suppress(OSError):
            (self.store.root / STAGING).rmdir()  # only when empty: a build may use it

    def current_id(self) -> str | None:
        return self.store.current_id()


# -- the node's side of an SSH push: `python -m publish release-node STEP` ------------------

STEPS = ("prepare", "receive", "verify", "install", "switch", "discard", "status")


def add_command(subparsers: Any) -> None:
    node = subparsers.add_parser(
        "release-node",
        help="one step of `release push` on this node (run by the push over ssh)",
    )
    node.add_argument("step", choices=STEPS)
    node.add_argument("--tiles", required=True, help="this node's tiles folder")
    node.add_argument("--release", metavar="ID", help="the release pushed")
    node.add_argument("--bytes", type=int, default=0, help="prepare: the release's size")
    node.add_argument("--replace", action="store_true", help="install: over a damaged copy")
    node.set_defaults(run=run_step)


def run_step(args: argparse.Namespace) -> int:
    """Run one step on the folder named by --tiles; print its answer as a JSON line."""
    target = LocalTarget(Path(args.tiles))
    rid = args.release
    answer: dict[str, object] = {}
    if args.step != "status" and (not rid or not is_release_id(rid)):
        raise ReleaseError(f"release-node {args.step} needs --release ID (got {rid!r})")
    try:
        if args.step == "prepare":
            answer = asdict(target.prepare(rid, args.bytes))
        elif args.step == "receive":
            target.receive_tar(rid, sys.stdin.buffer)
        elif args.step == "verify":
            target.verify(rid)
        elif args.step == "install":
            target.install(rid, args.replace)
        elif args.step == "switch":
            target.switch(rid)
        elif args.step == "discard":
            target.discard(rid)
    except OSError as exc:  # as a local push reports it: the file and why
        raise ReleaseError(str(exc)) from exc
    answer["current"] = target.current_id()
    print(json.dumps(answer))
    return 0
