"""The public viewer's files (the built bundle anyone can download, and its sources) name nothing
internal: no internal layer's id, title or group, no field only internal layers publish, none of
those fields' titles. The words come from the sample catalog, not from a list here."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.catalog import Catalog, load_catalog
from publish.viewer import STATIC_DIR
from tests.viewer.bundle import needed_chunks
from tests.viewer.internal_words import internal_words, words_in

WEB_SRC = Path(__file__).resolve().parents[2] / "web" / "src"
BUNDLE_SUFFIXES = (".js", ".mjs", ".css", ".html")


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> Catalog:
    return load_catalog(sample_dir / "layers.yml")


@pytest.fixture(scope="module")
def words(catalog: Catalog) -> set[str]:
    words = internal_words(catalog)
    # the sample's internal layer and its approval-system fields are among them
    spxm = catalog.layer("spxm")
    assert not spxm.is_public
    assert {"spxm", spxm.title_zh, "XMMC", *spxm.field_title("XMMC"), "审批"} <= words
    assert not {"BSM", "MJ", "面积"} & words, "words public layers use too are not internal"
    return words


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in BUNDLE_SUFFIXES)


def test_the_built_bundle_names_nothing_internal(words: set[str]) -> None:
    files = _files(STATIC_DIR)
    assert {p.suffix for p in files} >= {".js", ".css", ".html"}, "the viewer is not built"
    app = next(p for p in files if p.name.startswith("app-") and p.suffix == ".js")
    # the search decodes the bundle's escapes: the viewer's own title is found (in the script or
    # a chunk it imports)
    parts = [app.name, *needed_chunks(STATIC_DIR, app.name)]
    script = "".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in parts)
    assert words_in(script, {"国土空间规划一张图"})
    for path in files:
        found = words_in(path.read_text(encoding="utf-8", errors="replace"), words)
        assert not found, f"{path.name} names internal {found}"


def test_the_viewer_sources_name_nothing_internal(words: set[str]) -> None:
    files = _files(WEB_SRC)
    assert any(p.name == "main.js" for p in files)
    for path in files:
        found = words_in(path.read_text(encoding="utf-8"), words)
        assert not found, f"web/src/{path.name} names internal {found}"
