"""The indicator model's validation: every error names the file, the indicator and the key, and
the build stops with exit status 2 before any work."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from publish.catalog import Catalog, load_catalog
from publish.errors import CatalogError, ModelError
from publish.indicators.model import load_model, parse_model

REPO = Path(__file__).resolve().parents[2]

VALID: dict[str, Any] = {
    "year": 2025,
    "values": "values.csv",
    "indicators": [
        {
            "id": "red_line_area",
            "name": {"zh": "生态保护红线面积", "en": "Red line area"},
            "unit": "km²",
            "kind": "binding",
            "formula": "area(stbhhx)",
            "targets": [{"scope": "city", "year": 2035, "rule": "at_least", "target": 2964.15}],
        },
        {
            "id": "per_capita",
            "name": {"zh": "人均", "en": "Per capita"},
            "unit": "m²/人",
            "kind": "expected",
            "formula": "ratio(area(czkfbj), value(population))",
            "targets": [
                {
                    "scope": "county",
                    "code": "430802",
                    "year": 2025,
                    "rule": "between",
                    "target": [80, 120],
                    "band": 0.05,
                },
            ],
        },
    ],
}
VALUES = "name,scope,code,year,value\npopulation,city,430800,2025,1500000\n"


@pytest.fixture(scope="module")
def catalog(sample_dir: Path) -> Catalog:
    return load_catalog(sample_dir / "layers.yml")


def _model(tmp_path: Path, doc: Any, values: str | None = VALUES) -> Path:
    if values is not None:
        (tmp_path / "values.csv").write_text(values, encoding="utf-8")
    path = tmp_path / "indicators.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_a_valid_model(catalog: Catalog, tmp_path: Path) -> None:
    model = parse_model(VALID, _model(tmp_path, VALID), catalog)
    red, per_capita = model.indicators
    assert model.year == 2025 and model.band == 0.02 and model.target_years == [2025, 2035]
    assert red.layers == ("stbhhx",) and red.additive and red.factor == 1e-6
    assert not per_capita.additive and per_capita.targets[0].band == 0.05
    assert per_capita.targets[0].target == (80.0, 120.0)
    assert model.values.get("population", "city", "430800", 2025) == 1_500_000
    assert red.scopes == ("city", "county") and red.targets_for("city", "430800")
    assert isinstance(ModelError("x"), CatalogError)


def test_the_sample_names_its_model(sample_dir: Path) -> None:
    model = load_model(load_catalog(sample_dir / "layers.yml"))
    assert model is not None and model.path == sample_dir.resolve() / "indicators.yml"
    ids = [i.id for i in model.indicators]
    assert {"red_line_area", "farmland_protection", "cultivated_land", "urban_boundary_area",
            "construction_land", "urban_land_per_capita", "forest_land", "forest_cover",
            "projects_under_review"} <= set(ids)  # fmt: skip
    internal = [i for i in model.indicators if i.access == "internal"]
    assert [i.layers for i in internal] == [("spxm",)]
    assert [i.id for i in model.for_audience("public")] == [i for i in ids if i != internal[0].id]
    assert model.values.get("population", "city", "430800", 2025) == pytest.approx(1.5e6, rel=0.05)


def _with(change: dict[str, Any], target: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    doc["indicators"][0].update(change)
    if target is not None:
        doc["indicators"][0]["targets"][0].update(target)
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_with({"formula": "area(gd)"}), "indicator 'red_line_area': key 'formula': unknown layer 'gd'"),
        (_with({"formula": "area(spxm)"}),
         "indicator 'red_line_area': key 'formula': layer 'spxm' is internal: the indicator must say 'access: internal'"),
        (_with({"formula": 'area(dltb, code="0199")'}),
         "indicator 'red_line_area': key 'formula': unknown code '0199' for layer 'dltb'"),
        (_with({"formula": 'area(ydyh, code=["07", "99"])'}), "unknown code '99' for layer 'ydyh'"),
        (_with({"formula": 'area(stbhhx, code="07")'}), "code=: layer 'stbhhx' has no code_field"),
        (_with({"formula": 'area(stbhhx, OWNER="x")'}), "unknown field 'OWNER' of layer 'stbhhx'"),
        (_with({"formula": "area(hl)"}), "area() and overlap() need a polygon layer; 'hl' is line"),
        (_with({"formula": "value(gdp)"}), "value(gdp): no figure 'gdp' in values.csv"),
        (_with({"formula": "area("}), "indicator 'red_line_area': key 'formula' is not a formula"),
        (_with({}, {"rule": "more_than"}),
         "indicator 'red_line_area': key 'targets' #1: key 'rule' must be one of at_least, at_most, between"),
        (_with({}, {"rule": "between"}), "key 'target' must be [low, high] for rule 'between'"),
        (_with({}, {"scope": "county"}), "key 'code' is required for scope 'county'"),
        (_with({}, {"band": 2}), "key 'band' must be a fraction from 0 to 1"),
        (_with({"unit": "mu"}), "indicator 'red_line_area': key 'unit' must be one of km², 公顷, %"),
        (_with({"unit": "%"}), "key 'unit' '%' is for share(...) formulas"),
        (_with({"kind": "hard"}), "key 'kind' must be one of binding, expected"),
        (_with({"access": "staff"}), "key 'access' must be one of public, internal"),
        (_with({"id": "Red"}), "indicator 'Red': key 'id' must be snake_case"),
        (_with({"colour": "red"}), "indicator 'red_line_area': unknown key 'colour'"),
        (_with({"name": "红线"}), "key 'name' must have 'zh' and 'en' strings"),
        ({**VALID, "indicators": [VALID["indicators"][0]] * 2}, "key 'id' is not unique"),
        ({**VALID, "year": "2025"}, "key 'year' must be a year"),
        ({**VALID, "scopes": {"county": "stbhhx"}}, "key 'scopes': county names 'stbhhx', which is not an admin layer"),
        ({**VALID, "extra": 1}, "unknown key 'extra'"),
        ([], "expected a mapping with an 'indicators' list"),
    ],
)  # fmt: skip
def test_errors_name_file_indicator_and_key(
    catalog: Catalog, tmp_path: Path, doc: Any, message: str
) -> None:
    path = _model(tmp_path, doc)
    with pytest.raises(ModelError) as caught:
        parse_model(doc, path, catalog)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_an_internal_indicator_may_use_an_internal_layer(catalog: Catalog, tmp_path: Path) -> None:
    doc = _with({"formula": "area(spxm)", "access": "internal"})
    model = parse_model(doc, _model(tmp_path, doc), catalog)
    assert [i.id for i in model.for_audience("public")] == ["per_capita"]
    assert len(model.for_audience("internal")) == 2


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (None, "key 'values': cannot read"),
        ("name,scope,year,value\n", "missing column(s) code"),
        ("name,scope,code,year,value\npopulation,town,1,2025,3\n", "line 2: column 'scope'"),
        ("name,scope,code,year,value\npopulation,city,1,2025,many\n", "line 2: columns 'year'"),
    ],
)
def test_values_csv_errors(
    catalog: Catalog, tmp_path: Path, values: str | None, message: str
) -> None:
    path = _model(tmp_path, VALID, values)
    with pytest.raises(ModelError) as caught:
        parse_model(VALID, path, catalog)
    assert message in str(caught.value)


def _catalog_with_model(sample_dir: Path, root: Path, doc: Any, values: str | None) -> Path:
    catalog = yaml.safe_load((sample_dir / "layers.yml").read_text(encoding="utf-8"))
    for layer in catalog["layers"]:
        layer["source"] = str(sample_dir / layer["source"])
    path = root / "layers.yml"
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    _model(root, doc, values)
    return path


@pytest.mark.parametrize(
    ("doc", "values", "message"),
    [
        (_with({"formula": "area(gd)"}), VALUES, "indicator 'red_line_area': key 'formula': unknown layer 'gd'"),
        (_with({"formula": "area(spxm)"}), VALUES, "layer 'spxm' is internal"),
        (_with({}, {"rule": "more_than"}), VALUES, "key 'rule' must be one of"),
        (_with({"formula": 'area(dltb, code="0199")'}), VALUES, "unknown code '0199'"),
        (VALID, None, "key 'values': cannot read"),
    ],
)  # fmt: skip
def test_the_build_exits_2_before_any_work(
    sample_dir: Path, tmp_path: Path, doc: Any, values: str | None, message: str
) -> None:
    catalog = _catalog_with_model(sample_dir, tmp_path, doc, values)
    out = tmp_path / "tiles"
    done = subprocess.run(
        [sys.executable, "-m", "publish", "build", "--catalog", str(catalog), "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'indicators.yml'}: "), done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any((out / "releases").glob("*")), "work was done"


def test_a_catalog_naming_a_missing_model(sample_dir: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load((sample_dir / "layers.yml").read_text(encoding="utf-8"))
    doc["indicators"] = "nowhere.yml"
    path = tmp_path / "layers.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelError, match=r"nowhere\.yml: cannot read the indicator model"):
        load_model(load_catalog(path))
    doc.pop("indicators")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert load_model(load_catalog(path)) is None
