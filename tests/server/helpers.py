"""Helpers for the server tests: releases, tiles to ask for, decoding what comes back."""

from __future__ import annotations

import gzip
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import mapbox_vector_tile
import yaml

from publish.app import create_app
from publish.server.settings import Settings
from publish.tiles.archive import Archive, TileStatus, lookup
from support.ports import free_port

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what the project has
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

__all__ = [
    "Built",
    "Probe",
    "TestClient",
    "catalog_subset",
    "decode",
    "find_empty_tile",
    "find_tile",
    "make_client",
    "point_current",
]


@dataclass(frozen=True)
class Built:
    out: Path  # the build's tiles folder (read-only for tests)
    first: str  # full build
    second: str  # `--only hl` on top of the first

    def release(self, rid: str) -> Path:
        return self.out / "releases" / rid

    def archive_path(self, rid: str, audience: str) -> Path:
        return self.release(rid) / "tiles" / f"{audience}.pmtiles"


@dataclass(frozen=True)
class Probe:
    """Tiles of the first release to ask for."""

    internal_only: tuple[int, int, int]  # a tile whose internal version holds spxm
    public: tuple[int, int, int]  # a stored public tile
    empty: tuple[int, int, int]  # inside the bounds and zooms, nothing stored
    maxzoom: int


def catalog_subset(sample: Path, layers: Iterable[str], out: Path) -> Path:
    """The sample's catalog with only `layers` (sources made absolute), written to `out`; without
    the sample's indicator model, which names layers left out."""
    wanted = set(layers)
    doc = yaml.safe_load((sample / "layers.yml").read_text(encoding="utf-8"))
    doc.pop("indicators", None)
    doc["layers"] = [
        {**layer, "source": str(sample / layer["source"])}
        for layer in doc["layers"]
        if layer["id"] in wanted
    ]
    out.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return out


def point_current(tiles_dir: Path, release_id: str) -> None:
    """Switch DIR/current atomically, as the build does (a new symlink renamed over it)."""
    tmp = tiles_dir / ".current.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(f"releases/{release_id}", tmp)
    os.replace(tmp, tiles_dir / "current")


TEST_HOST = "testserver"  # the Host a TestClient sends


def make_client(settings: Settings, **kwargs: Any) -> TestClient:
    """A TestClient for other settings (use it as a context manager: it runs the lifespan).
    The app also answers the TestClient's own host name, besides the settings' hosts."""
    if "*" not in settings.allowed_hosts and TEST_HOST not in settings.allowed_hosts:
        settings = replace(settings, allowed_hosts=(*settings.allowed_hosts, TEST_HOST))
    return TestClient(create_app(settings), **kwargs)


def decode(data: bytes, *, gzipped: bool = True) -> dict[str, Any]:
    """An MVT's layers, from stored (gzip) bytes, or from a body httpx already decompressed."""
    decoded: dict[str, Any] = mapbox_vector_tile.decode(gzip.decompress(data) if gzipped else data)
    return decoded


def find_tile(path: Path, z: int, layer: str | None = None) -> tuple[int, int, int]:
    """A stored tile at zoom `z` (holding `layer`, if given)."""
    with Archive(path) as archive:
        for tz, x, y, data in archive.iter_tiles():
            if tz != z:
                continue
            if layer is None or layer in decode(data):
                return tz, x, y
    raise AssertionError(f"no tile at z{z} with {layer} in {path}")


def find_empty_tile(path: Path, z: int) -> tuple[int, int, int]:
    """A tile inside the archive's bounds with nothing stored (near the bounds' corners)."""
    with Archive(path) as archive:
        west, south, east, north = archive.bounds
        n = 1 << z
        for lon, lat in ((west, north), (east, north), (west, south), (east, south)):
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            for dx in range(-3, 4):
                for dy in range(-3, 4):
                    if lookup(archive, z, x + dx, y + dy).status is TileStatus.EMPTY:
                        return z, x + dx, y + dy
    raise AssertionError(f"no empty tile at z{z} in {path}")


# -- a real server ----------------------------------------------------------------------------

RUN_SERVE = (
    "import sys; from publish.server.commands import main; raise SystemExit(main(sys.argv[1:]))"
)
INTERVAL = 0.5
# The ASGI server of the tests that run `serve` for real (`serve --server`): serve's default,
# granian, or what ONEMAP_TEST_SERVER names, to run them all under another
# (`ONEMAP_TEST_SERVER=uvicorn`).
TEST_SERVER = os.environ.get("ONEMAP_TEST_SERVER") or "granian"


@contextmanager
def serve(
    tiles_dir: Path,
    tokens: Path,
    log: Path,
    *,
    workers: int = 1,
    ready: bool = True,
    settings_env: dict[str, str] | None = None,
    server: str = TEST_SERVER,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m publish serve` (under the ASGI server `server`) on a free port until the block
    ends; `settings_env` adds PUBLISH_* variables (the developer's own are never passed on)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISH_")}
    env.update(settings_env or {})
    args = [
        *("serve", "--tiles", str(tiles_dir), "--port", str(port)),
        *("--workers", str(workers), "--tokens-file", str(tokens)),
        *("--reload-interval", str(INTERVAL), "--server", server),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN_SERVE, *args], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                r = httpx.get(f"{base}/healthz", timeout=2)
                if r.status_code == 200 or not ready:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
