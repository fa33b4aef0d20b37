"""`release push`: the server tests' two releases (tests/server/conftest.py) pushed from their
tiles folder to node folders of each test's own: copied whole, verified, switched on every node
(or on none when one fails), atomically for a node that is serving."""

from __future__ import annotations

import filecmp
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from publish.cli import main
from publish.release import node as node_module
from publish.release import push as push_module
from publish.release.manifest import MANIFEST, read_manifest
from publish.release.push import push_release
from publish.release.store import ReleaseStore
from publish.release.verify import verify_release
from publish.server.settings import Settings
from tests.server.helpers import Built, TestClient, find_tile, make_client


def push(*argv: object) -> int:
    return main(["release", "push", *map(str, argv)])


def targets(*nodes: Path) -> list[str]:
    return [arg for node in nodes for arg in ("--to", str(node))]


@pytest.fixture
def serving_first(built_releases: Built, nodes: tuple[Path, Path]) -> tuple[Path, Path]:
    """The two nodes, the first release pushed to them (and current there)."""
    report = push_release(built_releases.out, nodes, release_id=built_releases.first)
    assert [o.status for o in report.outcomes] == ["switched", "switched"], report
    return nodes


@pytest.fixture
def damage_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Copies into the nodes listed get one byte of their public archive flipped (same size:
    only the sha256 can tell), as a failing disk or network would."""
    damaged: list[Path] = []
    copy = node_module.copy_file

    def flaky_copy(source: Path, dest: Path) -> None:
        copy(source, dest)
        if dest.name == "public.pmtiles" and any(dest.is_relative_to(n) for n in damaged):
            data = bytearray(dest.read_bytes())
            data[len(data) // 2] ^= 0xFF
            dest.write_bytes(bytes(data))

    monkeypatch.setattr(node_module, "copy_file", flaky_copy)
    yield damaged


def assert_serves(node: Path, built: Built, rid: str) -> None:
    """`node` is current on `rid`, holds it byte for byte as built, verified, nothing staged."""
    assert ReleaseStore(node).current_id() == rid
    copy, origin = node / "releases" / rid, built.release(rid)
    assert verify_release(copy) == []
    names = [*read_manifest(origin)["files"], MANIFEST]
    same, different, errors = filecmp.cmpfiles(origin, copy, names, shallow=False)
    assert (different, errors) == ([], []) and len(same) == len(names) > 10
    assert not (node / ".staging").exists()


def health(settings: Settings) -> str:
    with make_client(settings) as client:
        release: str = client.get("/healthz").json()["release"]
        return release


def test_push_copies_verifies_and_switches_every_node(
    built_releases: Built, serving_first: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = built_releases.first, built_releases.second
    for node in serving_first:
        assert_serves(node, built_releases, first)
        assert health(Settings(tiles_dir=node)) == first
    assert ReleaseStore(built_releases.out).current_id() == second  # the default: current
    capsys.readouterr()

    assert push("--tiles", built_releases.out, *targets(*serving_first)) == 0

    out = capsys.readouterr().out
    assert out.count("switched   ") == 2 and out.count("sha256 verified") == 2, out
    assert f"it served {first}" in out and f"release {second} is current on 2 target(s)" in out
    for node in serving_first:
        assert_serves(node, built_releases, second)
        assert ReleaseStore(node).ids() == [first, second]  # the old one kept for rollback
        assert health(Settings(tiles_dir=node)) == second


def test_pushing_again_copies_nothing(
    built_releases: Built,
    serving_first: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert push("--tiles", built_releases.out, *targets(*serving_first)) == 0
    inodes = {
        n: (n / "releases" / built_releases.second / MANIFEST).stat().st_ino for n in serving_first
    }

    def no_copy(source: Path, dest: Path) -> None:
        raise AssertionError(f"copied {source} again")

    monkeypatch.setattr(node_module, "copy_file", no_copy)
    capsys.readouterr()
    assert push("--tiles", built_releases.out, *targets(*serving_first)) == 0
    assert (
        capsys.readouterr().out.count("already held, sha256 verified; it was already current") == 2
    )
    for node in serving_first:
        assert_serves(node, built_releases, built_releases.second)
        assert (node / "releases" / built_releases.second / MANIFEST).stat().st_ino == inodes[node]


def test_every_node_holds_the_release_before_any_switches(
    built_releases: Built, serving_first: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two-phase: when the first node's `current` moves, every node already holds the release,
    so its /releases/<id>/… URLs answer on any node."""
    held_at_switch: list[list[bool]] = []
    switch = push_module._switch

    def watched_switch(node: push_module._Node, rid: str) -> None:
        held_at_switch.append([(n / "releases" / rid).is_dir() for n in serving_first])
        switch(node, rid)

    monkeypatch.setattr(push_module, "_switch", watched_switch)
    report = push_release(built_releases.out, serving_first)
    assert [o.status for o in report.outcomes] == ["switched", "switched"]
    assert held_at_switch == [[True, True], [True, True]]


def test_a_damaged_copy_switches_no_node(
    built_releases: Built,
    serving_first: tuple[Path, Path],
    damage_on: list[Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = serving_first
    damage_on.append(b)
    capsys.readouterr()

    assert push("--tiles", built_releases.out, *targets(a, b)) == 2

    out, err = capsys.readouterr()
    lines = out.splitlines()
    failed = [line for line in lines if line.startswith("failed")]
    held = [line for line in lines if line.startswith("held back")]
    assert len(failed) == 1 and str(b) in failed[0] and str(a) not in failed[0], out
    assert "tiles/public.pmtiles: sha256 differs from the manifest" in failed[0]
    assert f"serves {built_releases.first}" in failed[0]
    assert len(held) == 1 and str(a) in held[0] and "another target failed" in held[0], out
    assert err.strip() == (
        f"error: release {built_releases.second} failed on {b} (0 of 2 targets serve it)"
    )
    for node in (a, b):  # both keep the old release, the new one nowhere, nothing staged
        assert_serves(node, built_releases, built_releases.first)
        assert ReleaseStore(node).ids() == [built_releases.first]


def test_switch_each_switches_the_nodes_that_verified(
    built_releases: Built,
    serving_first: tuple[Path, Path],
    damage_on: list[Path],
) -> None:
    a, b = serving_first
    damage_on.append(a)

    report = push_release(built_releases.out, (a, b), switch_each=True)

    assert [o.status for o in report.outcomes] == ["failed", "switched"]
    assert "sha256 differs" in report.outcomes[0].message
    assert_serves(a, built_releases, built_releases.first)
    assert ReleaseStore(a).ids() == [built_releases.first]
    assert_serves(b, built_releases, built_releases.second)


def test_a_damaged_copy_already_on_a_node_is_replaced(
    built_releases: Built, serving_first: tuple[Path, Path]
) -> None:
    a, b = serving_first
    stale = b / "releases" / built_releases.second
    shutil.copytree(built_releases.release(built_releases.second), stale)
    (stale / "styles" / "public.json").write_text("{}", encoding="utf-8")
    assert verify_release(stale) != []

    report = push_release(built_releases.out, (a, b))

    assert [o.status for o in report.outcomes] == ["switched", "switched"], report
    assert "copied" in report.outcomes[1].message
    for node in (a, b):
        assert_serves(node, built_releases, built_releases.second)


def test_targets_that_cannot_take_the_release_keep_theirs(
    built_releases: Built,
    serving_first: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = serving_first
    other = tmp_path / "documents"
    other.mkdir()
    (other / "notes.txt").write_text("not tiles", encoding="utf-8")
    missing = tmp_path / "no-such-node"
    capsys.readouterr()

    assert push("--tiles", built_releases.out, *targets(a, other, missing)) == 2

    out, err = capsys.readouterr()
    assert f"failed     {other}  {other} is not a tiles folder (no releases/ or current" in out
    assert f"failed     {missing}  {missing} does not exist" in out
    assert f"failed on {other}, {missing} (0 of 3 targets serve it)" in err
    assert list(other.iterdir()) == [other / "notes.txt"] and not missing.exists()
    assert_serves(a, built_releases, built_releases.first)
    assert ReleaseStore(a).ids() == [built_releases.first]  # its verified copy not kept

    monkeypatch.setattr(node_module, "free_bytes", lambda folder: 1_000_000)
    report = push_release(built_releases.out, (b,))
    assert report.outcomes[0].status == "failed"
    assert report.outcomes[0].message.startswith("no space: the release needs ")
    assert report.outcomes[0].message.endswith(" MB, 1.0 MB free")
    assert_serves(b, built_releases, built_releases.first)


def test_bad_requests_are_named(
    built_releases: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = tmp_path / "node"
    node.mkdir()
    cases = [
        ((), "release push needs at least one --to TARGET"),
        ((*targets(node, tmp_path / "node"),), f"target {node} is named twice"),
        (("--release", "latest", *targets(node)), "'latest' is not a release id"),
        (
            ("--release", "20200101T000000Z-00000000", *targets(node)),
            "no release 20200101T000000Z-00000000 under",
        ),
    ]
    for argv, message in cases:
        assert push("--tiles", built_releases.out, *argv) == 2
        assert message in capsys.readouterr().err
    assert push("--tiles", tmp_path / "empty", *targets(node)) == 2
    assert "no current release (name one with --release ID)" in capsys.readouterr().err
    assert list(node.iterdir()) == []


def test_a_serving_node_switches_without_a_failed_request(
    built_releases: Built, serving_first: tuple[Path, Path]
) -> None:
    """A node answering tiles and documents in a loop while the push switches it: every answer
    a 200, from the old release and then from the new one (the symlink is renamed over)."""
    a, b = serving_first
    first, second = built_releases.first, built_releases.second
    z, x, y = find_tile(built_releases.archive_path(first, "public"), 8)
    urls = [f"/tiles/public/{z}/{x}/{y}.mvt", "/tiles/public.json", "/styles/public.json"]
    answers: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def loop(client: TestClient) -> None:
        while not stop.is_set():
            for url in urls:
                r = client.get(url)
                answers.append((r.status_code, r.headers.get("x-onemap-release")))

    def count(release: str) -> int:
        return sum(1 for _, rid in list(answers) if rid == release)

    def wait_for(release: str) -> None:
        deadline = time.monotonic() + 30
        while count(release) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)

    with make_client(Settings(tiles_dir=a, reload_interval_s=0.1)) as client:
        thread = threading.Thread(target=loop, args=(client,))
        thread.start()
        try:
            wait_for(first)
            report = push_release(built_releases.out, (a, b))
            wait_for(second)
        finally:
            stop.set()
            thread.join(30)
    assert [o.status for o in report.outcomes] == ["switched", "switched"]
    assert {status for status, _ in answers} == {200}
    assert count(first) >= 30 and count(second) >= 30
    releases = [rid for _, rid in answers]
    assert first not in releases[releases.index(second) :]  # never back to the old one
