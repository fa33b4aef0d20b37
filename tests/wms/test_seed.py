"""`python -m publish seed` fills the current release's caches (in the server's data folder) in
both grids with MapProxy's seeder, and removes the caches of other releases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SEED = (sys.executable, "-m", "publish", "seed")


def test_seed_fills_both_grids(full_release: Any, tmp_path: Path) -> None:
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    (tiles / "releases").symlink_to(full_release.path.parent)
    os.symlink(f"releases/{full_release.release_id}", tiles / "current")
    data = tmp_path / "data"  # as `serve --data-dir` would name it
    stale = data / "raster" / "20200101T000000Z-00000000" / "public"
    stale.mkdir(parents=True)
    run = subprocess.run(
        [*SEED, "--tiles", str(tiles), "--zoom", "0-7", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr + run.stdout
    assert f"release {full_release.release_id}: seeded plan, plan_cgcs2000 z0-7" in run.stdout
    cache = data / "raster" / full_release.release_id / "public"
    for folder, level in (("plan_EPSG3857", "07"), ("plan_cgcs2000_EPSG4490", "07")):
        pngs = list((cache / folder / level).rglob("*.png"))
        assert pngs, f"nothing seeded in {folder} at level {level}"
    assert not stale.exists()

    bad = subprocess.run(
        [*SEED, "--tiles", str(tiles), "--layers", "spxm"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "spxm" in bad.stderr and "Traceback" not in bad.stderr
