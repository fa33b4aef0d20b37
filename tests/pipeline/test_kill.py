"""A build killed (SIGKILL) at any stage leaves `current` and every earlier release untouched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publish.pipeline.build import BuildResult
from publish.release.store import ReleaseStore
from publish.release.verify import verify_release

REPO = Path(__file__).resolve().parents[2]

# Lines the build logs when a stage starts (plain output, not a terminal).
STAGES = [
    "read and check dltb",
    "read and check xzq_xiang",
    "cross-layer checks",
    "tile layers",
    "join tiles",
    "assemble public features",
    "indicators (internal)",
]


@pytest.fixture(scope="module")
def tiles_copy(built: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built tiles folder without its layer cache, so that every layer is built again."""
    out = tmp_path_factory.mktemp("kill") / "tiles"
    shutil.copytree(
        built.path.parents[1], out, symlinks=True, ignore=shutil.ignore_patterns("cache")
    )
    return out


def _kill_at(catalog: Path, out: Path, marker: str, timeout: float = 300) -> bool:
    """Start a build and SIGKILL it when its log shows `marker`; True if it was killed there."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "publish", "build", "--catalog", str(catalog), "--out", str(out)],
        cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    killed = False
    for line in proc.stderr:
        if marker in line:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        if time.monotonic() > deadline:
            break
    proc.kill()
    proc.wait()
    return killed


@pytest.mark.parametrize("marker", STAGES)
def test_sigkill_leaves_current_untouched(tiles_copy: Path, sample_dir: Path, marker: str) -> None:
    store = ReleaseStore(tiles_copy)
    before_current = store.current_id()
    before_ids = store.ids()
    assert before_current is not None
    assert _kill_at(sample_dir / "layers.yml", tiles_copy, marker), f"never reached {marker!r}"
    assert store.current_id() == before_current
    assert store.ids() == before_ids
    assert verify_release(store.current_path()) == []  # type: ignore[arg-type]
    # no orphaned tippecanoe keeps running after its build died
    time.sleep(0.5)
    ps = subprocess.run(["pgrep", "-f", str(tiles_copy)], capture_output=True, text=True)
    assert ps.stdout.strip() == "", ps.stdout


def test_build_after_kills_succeeds(tiles_copy: Path, sample_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "publish", "build", "--catalog", str(sample_dir / "layers.yml"),
         "--out", str(tiles_copy)],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = ReleaseStore(tiles_copy)
    assert store.current_id() == store.ids()[-1]
    assert not list((tiles_copy / "cache" / "layers").glob("*/*.tmp-*"))
