"""The wheel, installed the way a city's IT department would: built from the repository, installed
into a fresh virtual environment that cannot see the checkout, the package owned by root and run
by `nobody`, from a folder of its own: `sample`, `build` and `serve` work, the viewer, a tile,
OGC items, a WMS map and a glyph range answer with real content, everything the server wrote is
in its data folder, and nothing was written into the package.

The fresh environment takes its dependencies from the development one through a `.pth` file
naming its site-packages: a plain path, so the development install's finder for `publish` (an
editable install) is not run, and `publish` is the wheel's. Its interpreter is Debian's
python3.11 (the development one lives under /root, which `nobody` cannot enter)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import mapbox_vector_tile
import numpy as np
import pytest
from PIL import Image

from publish.resources import RESOURCES
from support.ports import free_port
from tests.fonts.glyphs_proto import decode_range

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path("/usr/bin/python3.11")
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
UID = 65534
PIP = (sys.executable, "-m", "pip")  # the development environment's
SERVE = ("-m", "publish", "serve", "--tiles", "tiles")
STATIC = ROOT / "publish" / "viewer" / "static"
# what the wheel is built from (a copy: the build leaves build/ and *.egg-info behind)
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "publish",
    *{r.split("/")[0] for r in RESOURCES},
)


def _copy_sources(dest: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "packaged", "glyphs")  # glyphs: fonts/glyphs/
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():  # symlinks (the built viewer) are followed
            shutil.copytree(source, dest / name, ignore=skip)
        else:
            shutil.copy2(source, dest / name)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the repository's sources."""
    src, dist = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    _copy_sources(src)
    run = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [found] = dist.glob("onemap_publish-*.whl")
    return found


def test_wheel_holds_the_repositorys_resources_and_the_viewer(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for resource in RESOURCES:
            source = ROOT / resource
            files = sorted(source.rglob("*")) if source.is_dir() else [source]
            files = [f for f in files if f.is_file() and "__pycache__" not in f.parts]
            assert files, resource
            for file in files:
                name = f"publish/packaged/{file.relative_to(ROOT).as_posix()}"
                assert archive.read(name) == file.read_bytes(), name
        packaged = {n for n in names if n.startswith("publish/packaged/")}
        assert len(packaged) == sum(
            len([f for f in (ROOT / r).rglob("*") if f.is_file()]) if (ROOT / r).is_dir() else 1
            for r in RESOURCES
        )
        assets = sorted(p.name for p in STATIC.iterdir() if p.is_file())
        assert "index.html" in assets and any(a.startswith("app-") for a in assets)
        for asset in assets:
            assert archive.read(f"publish/viewer/static/{asset}") == (STATIC / asset).read_bytes()
        assert not [n for n in names if "/glyphs/" in n or n.endswith(".pbf")]


@dataclass(frozen=True)
class Installed:
    python: Path  # the fresh environment's interpreter
    package: Path  # its publish/ folder
    work: Path  # nobody's working folder: sample/, tiles/, data/
    env: dict[str, str]


def _listing(folder: Path) -> list[tuple[str, int, int, int]]:
    """Every file and folder under `folder`: path, size, mtime and owner."""
    out = []
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        out.append((str(path.relative_to(folder)), st.st_size, st.st_mtime_ns, st.st_uid))
    return out


def _as_nobody(installed: Installed, *args: str, timeout: float = 600) -> str:
    run = subprocess.run(
        [*NOBODY, str(installed.python), *args],
        cwd=installed.work,
        env=installed.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, f"{args}: {run.stdout}\n{run.stderr}"
    return run.stdout


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Iterator[Installed]:
    """The wheel in a fresh environment under a folder `nobody` can enter (pytest's own is
    private to root), the package read-only for `nobody`, and a working folder of nobody's."""
    base = Path(tempfile.mkdtemp(prefix="onemap-wheel-"))
    try:
        base.chmod(0o755)
        venv = base / "venv"
        subprocess.run([str(PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        purelib = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        dev = Path(sysconfig.get_paths()["purelib"]).resolve()  # the development environment's
        (purelib / "development-dependencies.pth").write_text(f"{dev}\n", encoding="utf-8")
        run = subprocess.run(
            [*PIP, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        subprocess.run(["chmod", "-R", "go-w", str(venv)], check=True)
        work = base / "work"
        (work / "home").mkdir(parents=True)
        for path in (work, work / "home"):
            os.chown(path, UID, UID)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work / "home"), "LANG": "C.UTF-8"}
        yield Installed(python, purelib / "publish", work, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_installed_package_is_the_wheels_and_read_only(installed: Installed) -> None:
    out = _as_nobody(
        installed,
        "-c",
        "import publish, os; from publish.resources import resource_path as r; "
        "print(publish.__file__); print(r('styles')); print(r('mapproxy.yaml')); "
        "print(os.access(os.path.dirname(publish.__file__), os.W_OK))",
    )
    module, styles, template, writable = out.split()
    assert Path(module) == installed.package / "__init__.py"
    assert Path(styles) == installed.package / "packaged" / "styles"
    assert Path(template) == installed.package / "packaged" / "mapproxy.yaml"
    assert writable == "False"


@dataclass(frozen=True)
class Served:
    base: str
    data: Path
    before: list[tuple[str, int, int, int]]
    package: Path


@pytest.fixture(scope="module")
def served(installed: Installed) -> Iterator[Served]:
    """sample → build → serve, as nobody from its own folder, with a data folder of its own."""
    before = _listing(installed.package)
    _as_nobody(installed, "-m", "publish", "sample", "--out", "sample", "--parcels", "2000")
    _as_nobody(
        installed, "-m", "publish", "build", "--catalog", "sample/layers.yml", "--out", "tiles"
    )
    port = free_port()
    log = installed.work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*NOBODY, str(installed.python), *SERVE, "--port", str(port), "--data-dir", "data"],
            cwd=installed.work,
            env=installed.env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Served(base, installed.work / "data", before, installed.package)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_installed_server_answers_everything(served: Served) -> None:
    base = served.base
    page = httpx.get(f"{base}/", timeout=30)
    assert page.status_code == 200 and "<script" in page.text
    script = next(a for a in STATIC.iterdir() if a.name.startswith("app-") and a.suffix == ".js")
    asset = httpx.get(f"{base}/static/{script.name}", timeout=30)
    assert asset.status_code == 200 and asset.content == script.read_bytes()

    tilejson = httpx.get(f"{base}/tiles/public.json", timeout=30).json()
    lon, lat, _zoom = tilejson["center"]
    x, y = _tile_of(lon, lat, 9)
    tile = httpx.get(f"{base}/tiles/public/9/{x}/{y}.mvt", timeout=30)
    assert tile.status_code == 200
    layers = mapbox_vector_tile.decode(tile.content)
    assert any(layer["features"] for layer in layers.values()), sorted(layers)

    items = httpx.get(f"{base}/ogc/collections/xzq_xian/items", params={"f": "json"}, timeout=60)
    assert items.status_code == 200
    assert len(items.json()["features"]) == 4
    assert {f["properties"]["XZQMC"] for f in items.json()["features"]} >= {"永定区", "桑植县"}

    west, south, east, north = tilejson["bounds"]
    getmap = {
        "SERVICE": "WMS",
        "REQUEST": "GetMap",
        "VERSION": "1.1.1",
        "LAYERS": "stbhhx",
        "STYLES": "",
        "SRS": "EPSG:4326",
        "BBOX": f"{west},{south},{east},{north}",
        "WIDTH": "256",
        "HEIGHT": "256",
        "FORMAT": "image/png",
        "TRANSPARENT": "TRUE",
    }
    png = httpx.get(f"{base}/wms", params=getmap, timeout=180)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png", png.text[:500]
    alpha = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA"))[..., 3]
    assert alpha.shape == (256, 256) and (alpha > 0).mean() > 0.05  # the red line: 31 % of it

    glyphs = httpx.get(f"{base}/fonts/Noto Sans Regular/0-255.pbf", timeout=120)
    assert glyphs.status_code == 200
    [stack] = decode_range(glyphs.content).stacks
    assert stack.range == "0-255" and ord("A") in {g.id for g in stack.glyphs}

    # what the server wrote is in its data folder; the package is as installed
    data = served.data
    assert (data / "glyphs" / "Noto Sans Regular" / "0-255.pbf").is_file()
    assert list((data / "raster").glob("*/public/mapproxy.yaml"))
    assert _listing(served.package) == served.before
