"""Helpers for the viewer's browser tests: a real server, Debian's Chromium driven by Playwright,
waiting for the map, reading screenshots."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from support.browser import MAP_READY, WAIT_IDLE
from tests.server.helpers import serve as serve_release

DOCS = Path(__file__).resolve().parents[2] / "docs"
IDLE_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Server:
    base: str
    token: str
    tiles_dir: Path


@contextmanager
def serve(tiles_dir: Path, tokens: Path, token: str, log: Path) -> Iterator[Server]:
    """`python -m publish serve` (uvicorn) on a free port of 127.0.0.1 until the block ends."""
    with serve_release(tiles_dir, tokens, log) as (base, _proc):
        yield Server(base, token, tiles_dir)


# Every page records what the server's Content-Security-Policy blocked (none may be).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def open_map(page: Any, url: str) -> None:
    """Navigate and wait until the viewer is set up and the map is idle; nothing it needed
    was blocked by the Content-Security-Policy."""
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=IDLE_TIMEOUT_MS)
    wait_idle(page)
    assert page.evaluate("window.__cspViolations || []") == []


def wait_idle(page: Any) -> None:
    page.wait_for_function(MAP_READY, timeout=IDLE_TIMEOUT_MS)
    page.evaluate(WAIT_IDLE)


def pixels(png: bytes) -> np.ndarray[Any, Any]:
    """The screenshot as an H×W×3 uint8 array."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def colour_mask(
    image: np.ndarray[Any, Any], colour: str, tolerance: int = 3
) -> np.ndarray[Any, Any]:
    target = np.array(hex_rgb(colour), dtype=np.int16)
    return np.all(np.abs(image.astype(np.int16) - target) <= tolerance, axis=-1)


def save_screenshot(png: bytes, name: str, tmp_dir: Path) -> Path:
    """Always into the test's tmp folder; into docs/ too when UPDATE_SCREENSHOTS=1."""
    out = tmp_dir / name
    out.write_bytes(png)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(out, DOCS / name)
    return out
