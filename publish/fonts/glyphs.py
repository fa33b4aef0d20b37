"""The glyph ranges on disk: where they are, which fontstacks exist, and generating them.

Layout: `glyphs_dir()/{fontstack}/{start}-{end}.pbf` for every range of 256 code points from
0-255 to 65280-65535 (a range the font has no glyph in holds an empty fontstack, so that MapLibre
never meets a 404 for a well-formed range), plus `.stamp` (what the files were made from).

Coverage: every code point the font maps (Noto Sans Regular from Debian's fonts-noto-core: Basic
Latin, Latin-1, Latin Extended A/B and Additional, IPA, Greek, Cyrillic, general punctuation,
currency, letterlike symbols, number forms, superscripts…). Chinese, Japanese and Korean
characters, CJK punctuation (U+3000–30FF) and full-width forms (U+FF00–FFEF) are drawn by MapLibre
in the browser from a local font (`localIdeographFontFamily`), but the raster renderer (WMS/WMTS,
MapLibre Native) has no local font: the ranges of the CJK blocks (`CJK_STARTS`) are therefore
made on first request (`range_file`), from the fontstack's font and, for what it lacks, its
fallback (WenQuanYi Micro Hei from Debian's fonts-wqy-microhei) — ~1–2 s a range, then on disk.
Making all ~180 of them up front would take minutes at install for ranges few maps use.

The folder is generated (not committed): `python -m publish.fonts [FOLDER]` or the first
`glyphs_dir()` call writes it when it is missing or was made from another font or generator
version. Where it is belongs to the process, never the package: `serve` names its data folder's
(`use_glyphs_dir(Settings.glyphs_dir)`, <data>/glyphs), `seed` the same; a process that names
none (the build's review maps, the tests, `python -m publish.fonts` without FOLDER) uses the
user's cache, $XDG_CACHE_HOME/onemap-publish/glyphs (else ~/.cache/…); a new folder is copied
from there when that one was made from the same fonts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from functools import cache
from pathlib import Path

from publish.errors import PublishError
from publish.fonts.pbf import encode_range
from publish.fonts.sdf import render_glyphs

__all__ = [
    "FONTSTACKS",
    "FontMissingError",
    "generate",
    "glyphs_dir",
    "glyphs_version",
    "parse_range",
    "range_file",
    "use_glyphs_dir",
]

# fontstack name (as a style's text-font names it) → font file; the style uses the first
FONTSTACKS: dict[str, str] = {"Noto Sans Regular": "NotoSans-Regular.ttf"}
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/wqy"),
)
# the font that fills the CJK ranges where the fontstack's own font has no glyph
FALLBACK_FONT = "wqy-microhei.ttc"
RANGE_SIZE = 256
LAST_CODEPOINT = 0xFFFF  # MapLibre asks for glyph ranges of the Basic Multilingual Plane only
GENERATOR_VERSION = 2  # bump when the output changes for the same font
# Unicode blocks drawn by the fallback font: CJK radicals … Yi, Hangul syllables, CJK
# compatibility ideographs, vertical and small forms, half- and full-width forms.
_CJK_BLOCKS = (
    (0x2E80, 0xA4CF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFE10, 0xFE6F),
    (0xFF00, 0xFFEF),
)
CJK_STARTS = frozenset(
    start
    for start in range(0, LAST_CODEPOINT + 1, RANGE_SIZE)
    if any(lo <= start + RANGE_SIZE - 1 and start <= hi for lo, hi in _CJK_BLOCKS)
)
_RANGE = re.compile(r"^(\d{1,5})-(\d{1,5})$")
_LOCK = threading.Lock()
_chosen: list[Path] = []  # the folder use_glyphs_dir named (none: the user's cache)
_ready: set[Path] = set()  # folders checked (and made) in this process


class FontMissingError(PublishError):
    """A font the glyphs are made from is not installed."""


class BadRangeError(PublishError, ValueError):
    """A glyph range that is not `start-end` with digits."""


def parse_range(text: str) -> tuple[int, int] | None:
    """(start, end) of a glyph range such as "256-511": BadRangeError when `text` is not two
    numbers joined by '-', None when it is well formed but no range we make (not aligned to
    256, or beyond U+FFFF)."""
    match = _RANGE.match(text)
    if not match:
        raise BadRangeError(f"a glyph range is START-END, e.g. 0-255 (got {text[:40]!r})")
    start, end = int(match[1]), int(match[2])
    if start % RANGE_SIZE or end != start + RANGE_SIZE - 1 or end > LAST_CODEPOINT:
        return None
    return start, end


def _font_file(name: str, package: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissingError(
        f"font {name} not found in {', '.join(map(str, FONT_DIRS))}: "
        f"install the Debian package {package} (make install does)"
    )


def font_path(fontstack: str) -> Path:
    return _font_file(FONTSTACKS[fontstack], "fonts-noto-core")


def fallback_path() -> Path:
    return _font_file(FALLBACK_FONT, "fonts-wqy-microhei")


def _stamp() -> dict[str, object]:
    fonts = {}
    for stack in FONTSTACKS:
        path = font_path(stack)
        fonts[stack] = hashlib.sha256(path.read_bytes()).hexdigest()
    fonts[FALLBACK_FONT] = hashlib.sha256(fallback_path().read_bytes()).hexdigest()
    return {"generator": GENERATOR_VERSION, "fonts": fonts}


def _is_current(folder: Path, stamp: dict[str, object]) -> bool:
    try:
        return bool(json.loads((folder / ".stamp").read_text("utf-8")) == stamp)
    except (OSError, ValueError):
        return False


def generate(folder: Path, copy_from: Path | None = None) -> None:
    """Write every fontstack's ranges into `folder`, drawn or copied from `copy_from` (a folder
    made from the same fonts: the CJK ranges it made come along); made complete elsewhere, then
    renamed in, so that a reader never sees half a folder."""
    stamp = _stamp()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".glyphs-", dir=folder.parent))
    work.chmod(0o755)  # mkdtemp makes it private; the glyphs are public
    try:
        if copy_from is not None:
            skip = shutil.ignore_patterns(".*.pbf.*")  # a range being written (range_file)
            shutil.copytree(copy_from, work, ignore=skip, dirs_exist_ok=True)
        else:
            for stack in FONTSTACKS:
                _write_stack(work / stack, stack, font_path(stack))
        (work / ".stamp").write_text(json.dumps(stamp), "utf-8")
        old = folder.with_name(f".old-{os.getpid()}-{folder.name}")
        if folder.exists():
            folder.rename(old)
        work.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_stack(out: Path, fontstack: str, font: Path) -> None:
    from publish.fonts.sdf import font_codepoints

    out.mkdir(parents=True)
    codepoints = [cp for cp in font_codepoints(font) if cp <= LAST_CODEPOINT]
    by_range: dict[int, list[int]] = {}
    for cp in codepoints:
        by_range.setdefault(cp - cp % RANGE_SIZE, []).append(cp)
    for start in range(0, LAST_CODEPOINT + 1, RANGE_SIZE):
        if start in CJK_STARTS:
            continue  # made on first request (range_file)
        end = start + RANGE_SIZE - 1
        glyphs = render_glyphs(font, by_range.get(start, []))
        (out / f"{start}-{end}.pbf").write_bytes(encode_range(fontstack, start, end, glyphs))


def _write_cjk_range(path: Path, fontstack: str, start: int) -> None:
    """One CJK range: the fontstack's own glyphs, the fallback font's for the rest."""
    from publish.fonts.sdf import font_codepoints

    end = start + RANGE_SIZE - 1
    font, fallback = font_path(fontstack), fallback_path()
    own = [cp for cp in font_codepoints(font) if start <= cp <= end]
    filled = set(own)
    extra = [cp for cp in font_codepoints(fallback) if start <= cp <= end and cp not in filled]
    glyphs = [*render_glyphs(font, own), *render_glyphs(fallback, extra)]
    glyphs.sort(key=lambda g: g.id)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(encode_range(fontstack, start, end, glyphs))
    tmp.replace(path)


def range_file(fontstack: str, start: int) -> Path | None:
    """The file of the range starting at `start` of `fontstack`, made first if it is a CJK range
    not yet made; None for a fontstack or range we do not have."""
    if fontstack not in FONTSTACKS or start % RANGE_SIZE or not 0 <= start <= LAST_CODEPOINT:
        return None
    path = glyphs_dir() / fontstack / f"{start}-{start + RANGE_SIZE - 1}.pbf"
    if start in CJK_STARTS and not path.is_file():
        with _LOCK:
            if not path.is_file():
                _write_cjk_range(path, fontstack, start)
    return path if path.is_file() else None


def use_glyphs_dir(folder: Path | None) -> None:
    """Keep this process's glyph ranges in `folder` (made on first use): the server's data
    folder's, <data>/glyphs; None: the user's cache again."""
    with _LOCK:
        _chosen[:] = [] if folder is None else [Path(folder).resolve()]


def default_glyphs_dir() -> Path:
    """The folder of a process that named none: the user's cache."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "onemap-publish" / "glyphs"


def glyphs_dir() -> Path:
    """The folder of `{fontstack}/{start}-{end}.pbf` (`use_glyphs_dir`'s, else
    `default_glyphs_dir()`), generated first if it is missing or stale — copied from the
    user's cache when that holds the same glyphs (a few milliseconds instead of ~15 s).
    Raises FontMissingError without the font."""
    folder = _chosen[0] if _chosen else default_glyphs_dir()
    if folder in _ready:
        return folder
    with _LOCK:
        if folder not in _ready:
            stamp = _stamp()
            if not _is_current(folder, stamp):
                cached = default_glyphs_dir()
                same = cached != folder and _is_current(cached, stamp)
                generate(folder, copy_from=cached if same else None)
            _ready.add(folder)
    return folder


@cache
def glyphs_version() -> str:
    """What the glyph ranges are made from (the generator's version and the fonts' sha256), as
    a short hash: it changes whenever a range's bytes can, so a glyph URL carrying it names
    bytes that never change (publish.server.glyphs answers such a URL as immutable). Raises
    FontMissingError without the fonts."""
    stamp = json.dumps(_stamp(), sort_keys=True).encode("utf-8")
    return hashlib.sha256(stamp).hexdigest()[:16]
