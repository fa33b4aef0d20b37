"""The sample city's indicator model (indicators.yml) and its values CSV (values.csv).

The indicators are the master plan's usual ones; their targets are set from the sample's own
figures (revision 1, as generated, for the parcel count asked for), so that the statuses a build
shows do not depend on `--parcels`: each county's 2025 target is its value times a factor that
puts it clearly inside a status (ok, or the one county meant to be in warning or breach), and a
revision's small changes keep it there. The red line's city target is the plan's own figure,
2,964.15 km². Population (常住人口, 城镇人口) by county and city for 2025 and 2035 is modelled on
Zhangjiajie's (about 1.5 million people in 2025).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from publish.catalog import parse_catalog
from publish.indicators.compute import Evaluator
from publish.indicators.model import parse_model
from publish.indicators.scopes import scope_units
from publish.sample.geography import CITY_CODE
from publish.sample.writer import LayerOut

MODEL_FILE, VALUES_FILE = "indicators.yml", "values.csv"
YEAR = 2025
RED_LINE_KM2 = 2964.15  # the plan's own figure (DOMAIN.md)

# 2025 and 2035 residents and urban residents by county: 永定区, 武陵源区, 慈利县, 桑植县
POPULATION = {
    "430802": ((503_000, 362_000), (560_000, 440_000)),
    "430811": ((61_000, 45_700), (70_000, 56_000)),
    "430821": ((545_000, 245_000), (530_000, 300_000)),
    "430822": ((391_000, 164_000), (380_000, 200_000)),
}
CONSTRUCTION = [
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
]  # 用地用海 construction classes
# the factor that puts a value in a status: at_least ok / warning / breach, at_most ok / warning
OK_LOW, WARN_LOW, BREACH_LOW = 0.97, 1 / 1.01, 1.05
OK_HIGH, WARN_HIGH = 1.04, 1.005


@dataclass(frozen=True)
class Spec:
    id: str
    zh: str
    en: str
    unit: str
    kind: str
    formula: str
    rule: str | None  # None: no targets
    factor: float = 1.0  # 2025 target = value × factor (between: [low, high] factors)
    county: dict[str, float] = field(default_factory=dict)  # a county's own factor
    later: float = 1.0  # the 2035 target = the 2025 target × later
    city: float | None = None  # a fixed city target
    extra: dict[str, Any] = field(default_factory=dict)


SPECS = (
    Spec("red_line_area", "生态保护红线面积", "Ecological protection red line area", "km²",
         "binding", "area(stbhhx)", "at_least", OK_LOW, city=RED_LINE_KM2,
         extra={"township": True}),
    Spec("red_line_share", "生态保护红线面积占比", "Red line share of the land area", "%",
         "binding", "share(area(stbhhx), area(xzq_xian))", None),
    Spec("farmland_protection", "永久基本农田保护面积", "Permanent basic farmland protected",
         "km²", "binding", "area(yjjbnt)", "at_least", OK_LOW, {"430802": WARN_LOW},
         extra={"township": True}),
    Spec("cultivated_land", "耕地保有量", "Cultivated land kept", "公顷", "binding",
         'area(dltb, code="01")', "at_least", OK_LOW, {"430822": BREACH_LOW}),
    Spec("urban_boundary_area", "城镇开发边界面积", "Urban development boundary area", "km²",
         "binding", "area(czkfbj)", "at_most", OK_HIGH, {"430821": WARN_HIGH}),
    Spec("construction_land", "建设用地总规模", "Total construction land", "km²", "binding",
         f"area(dltb, code={CONSTRUCTION})", "at_most", OK_HIGH, later=1.08),
    Spec("urban_land_per_capita", "人均城镇建设用地", "Urban construction land per urban resident",
         "m²/人", "expected",
         f"ratio(overlap(select(dltb, code={CONSTRUCTION}), czkfbj), value(urban_population))",
         "between", extra={"band": 0.05}),
    Spec("forest_land", "林地保有量", "Forest land kept", "km²", "binding",
         'area(dltb, code="03")', "at_least", OK_LOW, {"430811": WARN_LOW}),
    Spec("forest_cover", "森林覆盖率", "Forest cover", "%", "expected",
         'share(area(dltb, code="03"), area(xzq_xian))', "at_least", OK_LOW, later=1.02),
    Spec("villages", "村庄数量", "Villages", "count", "expected", "count(cun)", None),
    Spec("projects_under_review", "在审项目用地面积", "Land of projects under review", "公顷",
         "expected", "area(spxm)", "at_most", 1.5, extra={"access": "internal"}),
)  # fmt: skip


def _values_rows() -> list[dict[str, Any]]:
    rows = []
    for index, year in enumerate((YEAR, 2035)):
        for name, column in (("population", 0), ("urban_population", 1)):
            total = sum(figures[index][column] for figures in POPULATION.values())
            rows.append(
                {"name": name, "scope": "city", "code": CITY_CODE, "year": year, "value": total}
            )
            for code, figures in POPULATION.items():
                rows.append(
                    {"name": name, "scope": "county", "code": code, "year": year,
                     "value": figures[index][column]}
                )  # fmt: skip
    return rows


def _indicator_entry(spec: Spec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": spec.id,
        "name": {"zh": spec.zh, "en": spec.en},
        "unit": spec.unit,
        "kind": spec.kind,
        "formula": spec.formula,
    }
    entry.update({k: v for k, v in spec.extra.items() if k != "band"})
    return entry


def _target(spec: Spec, scope: str, code: str | None, year: int, value: float) -> dict[str, Any]:
    factor = spec.county.get(code or "", spec.factor)
    later = spec.later if year > YEAR else 1.0
    if spec.rule == "between":
        target: Any = [round(value * 0.85 * later, 2), round(value * 1.25 * later, 2)]
    elif scope == "city" and spec.city is not None:
        target = spec.city
    else:
        target = round(value * factor * later, 2)
    out: dict[str, Any] = {"scope": scope}
    if code is not None:
        out["code"] = code
    out.update(year=year, rule=spec.rule, target=target)
    if "band" in spec.extra:
        out["band"] = spec.extra["band"]
    return out


def write_sample_model(out: Path, items: Sequence[LayerOut], meta: dict[str, Any]) -> None:
    """Write indicators.yml and values.csv into `out`, targets from the figures of `items` (the
    layers as generated, before any revision), and name the model in the catalog `meta`."""
    with (out / VALUES_FILE).open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["name", "scope", "code", "year", "value"])
        writer.writeheader()
        writer.writerows(_values_rows())
    doc: dict[str, Any] = {
        "year": YEAR,
        "band": 0.02,
        "values": VALUES_FILE,
        "scopes": {"county": "xzq_xian", "township": "xzq_xiang"},
        "indicators": [_indicator_entry(spec) for spec in SPECS],
    }
    catalog = parse_catalog({**meta, "layers": [i.entry for i in items]}, out / "layers.yml")
    model = parse_model(doc, out / MODEL_FILE, catalog)
    frames = {item.entry["id"]: item.frame for item in items}
    units = [u for u in scope_units(catalog, frames["xzq_xian"], None)]
    evaluator = Evaluator(catalog, frames.__getitem__, model)
    for spec, indicator, entry in zip(SPECS, model.indicators, doc["indicators"], strict=True):
        if spec.rule is None:
            continue
        targets = []
        for result in evaluator.results(indicator, units):
            if result.value is None or (spec.extra.get("access") and result.unit.scope != "city"):
                continue
            code = None if result.unit.scope == "city" else result.unit.code
            for year in (YEAR, 2035):
                targets.append(_target(spec, result.unit.scope, code, year, result.value))
        entry["targets"] = targets
    header = (
        "# The indicator model (指标模型): see README, 'Indicators and monitoring'.\n"
        "# Generated by `python -m publish sample` with targets from the sample's own figures.\n"
    )
    (out / MODEL_FILE).write_text(
        header
        + yaml.safe_dump(
            doc, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
        ),
        encoding="utf-8",
    )
    meta["indicators"] = MODEL_FILE
