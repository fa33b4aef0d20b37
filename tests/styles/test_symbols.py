"""publish.styles.symbols: the YAML files of styles/ load, and a mistake names file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from publish.catalog import CONTROL_LINE_ROLES
from publish.errors import BuildError
from publish.sample.landuse import ZONES
from publish.styles.symbols import default_styles_dir, load_symbols


def test_the_shipped_symbol_files_load() -> None:
    symbols = load_symbols()
    assert symbols.folder == default_styles_dir()
    assert (default_styles_dir() / "README.md").is_file()
    # every planning-zone code the sample writes has a colour, with the sample's name
    assert {z.code: z.zh for z in symbols.zones} == ZONES
    assert len({z.colour for z in symbols.zones}) == len(symbols.zones)
    assert [c.role for c in symbols.control_lines] == ["farmland", "red_line", "urban_boundary"]
    assert sorted(c.role for c in symbols.control_lines) == sorted(CONTROL_LINE_ROLES)
    assert [k.name for k in symbols.kinds][:3] == ["river", "road", "protected_area"]
    assert symbols.admin[0].line.width > symbols.admin[1].line.width
    assert symbols.font == ("Noto Sans Regular",)


def copy_styles(tmp_path: Path) -> Path:
    folder = tmp_path / "styles"
    shutil.copytree(default_styles_dir(), folder)
    return folder


def test_a_bad_colour_names_the_file_and_the_key(tmp_path: Path) -> None:
    folder = copy_styles(tmp_path)
    path = folder / "control_lines.yml"
    path.write_text(path.read_text("utf-8").replace('"#E60000"', '"red"', 1), "utf-8")
    with pytest.raises(BuildError) as caught:
        load_symbols(folder)
    assert str(path) in str(caught.value)
    assert "'lines[1].fill.colour' must be a colour" in str(caught.value)


def test_a_missing_control_line_is_refused(tmp_path: Path) -> None:
    folder = copy_styles(tmp_path)
    path = folder / "control_lines.yml"
    text = path.read_text("utf-8").replace("role: urban_boundary", "role: farmland")
    path.write_text(text, "utf-8")
    with pytest.raises(BuildError, match="must give each of red_line, farmland, urban_boundary"):
        load_symbols(folder)


def test_a_zone_listed_twice_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    folder = copy_styles(tmp_path)
    path = folder / "planning_zones.yml"
    path.write_text(path.read_text("utf-8").replace('code: "20"', 'code: "10"'), "utf-8")
    with pytest.raises(BuildError, match="'zones' lists a code twice"):
        load_symbols(folder)
    (folder / "basemap.yml").unlink()
    with pytest.raises(BuildError, match=r"basemap\.yml: cannot read"):
        load_symbols(folder)
