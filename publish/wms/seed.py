"""`python -m publish seed`: pre-render the current release's raster caches over the city with
MapProxy's seeder, with a progress bar per cache.

The seed covers the union of the audience's layer bounds, for the whole map (`plan`) and any
layers asked for, in both grids: the Web Mercator cache first (rendered), then the CGCS2000 one
(made from the Web Mercator tiles just stored). Caches of other releases are removed first, as
the server does when the release changes. MapProxy seeds in worker processes; each renders with
a renderer of its own (one mapli worker each), so `concurrency` is the number of tiles rendered
at once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from publish.errors import PublishError
from publish.raster.style import PLAN
from publish.release.store import CURRENT
from publish.wms.config import (
    CGCS2000,
    CONFIG_NAME,
    audience_layers,
    prune_caches,
    release_config,
)

SEED_NAME = "seed.yaml"


class SeedError(PublishError):
    """The seed cannot run (no current release, unknown layer, bad zoom range)."""


@dataclass(frozen=True)
class SeedResult:
    release_id: str
    caches: tuple[str, ...]
    levels: tuple[int, int]
    seconds: float


def parse_zooms(text: str) -> tuple[int, int]:
    """'0-12' → (0, 12); '10' → (10, 10)."""
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise SeedError(f"--zoom must be N or N-M (got {text!r})") from None
    if not 0 <= low <= high <= 18:
        raise SeedError(f"--zoom must lie within 0-18, low to high (got {text!r})")
    return low, high


class _BarLog:
    """MapProxy's progress logger interface, drawn as a rich progress bar."""

    progress_store = None
    current_task_id = None

    def __init__(self, bar: Any, task: Any) -> None:
        self.bar = bar
        self.task = task

    def log_message(self, msg: str) -> None:
        self.bar.console.print(msg)

    def log_step(self, progress: Any) -> None:
        self.bar.update(self.task, completed=progress.progress * 100)

    def log_progress(self, progress: Any, level: int, bbox: Any, tiles: int) -> None:
        self.bar.update(self.task, completed=progress.progress * 100)


def seed(
    tiles_dir: Path,
    levels: tuple[int, int],
    *,
    audience: str = "public",
    layers: Sequence[str] = (PLAN,),
    concurrency: int = 2,
    template: Path | None = None,
    data_dir: Path | None = None,
) -> SeedResult:
    """Seed `layers` of `audience` of the current release of `tiles_dir` at `levels`, into the
    raster caches of the data folder the server uses (default: the tiles folder's, as the
    server's `Settings.data_dir`); `template` the MapProxy template (default: the package's)."""
    import time

    from mapproxy.config.loader import load_configuration
    from mapproxy.seed.config import load_seed_tasks_conf
    from mapproxy.seed.seeder import seed as mapproxy_seed
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    from publish.fonts.glyphs import use_glyphs_dir
    from publish.raster.processes import use_in_process_renderer
    from publish.release.manifest import read_manifest
    from publish.server.settings import default_data_dir, glyphs_dir_of
    from publish.wms.source import register

    started = time.monotonic()
    link = Path(tiles_dir) / CURRENT
    if not link.exists():
        raise SeedError(f"{link} does not exist: build a release first")
    root = link.resolve()
    manifest = read_manifest(root)
    entries = audience_layers(manifest, audience)
    known = {PLAN, *(e["id"] for e in entries)}
    unknown = sorted(set(layers) - known)
    if unknown:
        raise SeedError(f"no layer {unknown} in the {audience} map (layers: {sorted(known)})")
    boxes = [e["bounds"] for e in entries if e.get("bounds")]
    if not boxes:
        raise SeedError(f"release {root.name}: the {audience} layers have no bounds")
    bbox = [min(b[0] for b in boxes), min(b[1] for b in boxes)]
    bbox += [max(b[2] for b in boxes), max(b[3] for b in boxes)]

    data = Path(data_dir) if data_dir is not None else default_data_dir(tiles_dir)
    use_glyphs_dir(glyphs_dir_of(data))  # the renderer's labels, as the server's
    prune_caches(data, keep={root.name})
    register()
    config = release_config(data, root, audience, template)
    caches = [name for layer in layers for name in (layer, f"{layer}_{CGCS2000}")]
    seed_conf = {
        "coverages": {"city": {"bbox": bbox, "srs": "EPSG:4326"}},
        "seeds": {
            name: {
                "caches": [name],
                "levels": {"from": levels[0], "to": levels[1]},
                "coverages": ["city"],
            }
            for name in caches
        },
    }
    seed_path = config.parent / SEED_NAME
    seed_path.write_text(yaml.safe_dump(seed_conf, sort_keys=False), encoding="utf-8")
    conf = load_configuration(mapproxy_conf=str(config), seed=True, ignore_warnings=True)
    tasks = load_seed_tasks_conf(str(seed_path), conf)

    use_in_process_renderer()  # the seed's worker processes (forked) render in their own
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    columns = ("{task.description}", BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns) as bar:
        for name in caches:
            for task in tasks.seeds([name]):
                grid = task.grid.name if hasattr(task, "grid") else ""
                bar_task = bar.add_task(f"{name} {grid} z{levels[0]}-{levels[1]}", total=100)
                mapproxy_seed(
                    [task], concurrency=concurrency, progress_logger=_BarLog(bar, bar_task)
                )
                bar.update(bar_task, completed=100)
    return SeedResult(root.name, tuple(caches), levels, round(time.monotonic() - started, 1))


__all__ = ["CONFIG_NAME", "SeedError", "SeedResult", "parse_zooms", "seed"]
