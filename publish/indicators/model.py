"""The indicator model (指标模型, indicators.yml): parsed and checked against the layer catalog
into frozen dataclasses.

The catalog names the model with a top-level key `indicators: indicators.yml` (relative to the
catalog). The model::

    year: 2025                  # the year the data stands for (value() reads this year)
    band: 0.02                  # the warning band of every target that sets none (default 0.02)
    values: values.csv          # figures not from layers: columns name,scope,code,year,value
    scopes: {county: xzq_xian, township: xzq_xiang}   # optional: the admin layers of the scopes
    indicators:
      - id: red_line_area       # snake_case, unique
        name: {zh: 生态保护红线面积, en: Ecological protection red line area}
        unit: km²               # km² | 公顷 | % | m²/人 | count
        kind: binding           # binding (约束性) | expected (预期性)
        formula: area(stbhhx)   # publish.indicators.formulas
        access: public          # public (default) | internal: one using an internal layer
                                # must say internal, and only staff see it
        township: false         # optional: compute townships without a township target
        targets:                # rules: publish.indicators.rules
          - {scope: city, year: 2035, rule: at_least, target: 2964.15}
          - {scope: county, code: "430802", year: 2025, rule: between, target: [1, 2], band: 0.05}

Every error is a ModelError naming the file, the indicator and the key, e.g.
``indicators.yml: indicator 'farmland': key 'formula': unknown layer 'gd'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from publish.catalog import Catalog, LayerSpec, Title
from publish.domain import AUDIENCES, INTERNAL, PUBLIC
from publish.errors import ModelError
from publish.indicators.formulas import (
    Area,
    Formula,
    FormulaError,
    Overlap,
    Quotient,
    formula_layers,
    formula_selections,
    formula_values,
    is_additive,
    parse_formula,
)
from publish.indicators.rules import RULES, Target
from publish.indicators.values import SCOPES, Values, load_values

__all__ = [
    "KINDS",
    "UNITS",
    "Indicator",
    "Model",
    "load_model",
    "model_path",
    "parse_model",
]

MODEL_KEY = "indicators"  # the catalog's key naming the model file
UNITS = {"km²": 1e-6, "公顷": 1e-4, "%": 100.0, "m²/人": 1.0, "count": 1.0}  # factor on m² / x
KINDS = ("binding", "expected")
DEFAULT_BAND = 0.02
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_MODEL_KEYS = {"year", "band", "values", "scopes", "indicators"}
_INDICATOR_KEYS = {"id", "name", "unit", "kind", "formula", "access", "township", "targets"}
_TARGET_KEYS = {"scope", "code", "year", "rule", "target", "band"}


@dataclass(frozen=True)
class Indicator:
    id: str
    name: Title
    unit: str
    kind: str
    formula_text: str
    formula: Formula
    access: str
    targets: tuple[Target, ...]
    township: bool = False  # computed for townships without a township target

    @property
    def layers(self) -> tuple[str, ...]:
        return formula_layers(self.formula)

    @property
    def additive(self) -> bool:
        return is_additive(self.formula)

    @property
    def factor(self) -> float:
        """What the formula's raw result (m², a count, a quotient) is multiplied by."""
        return UNITS[self.unit]

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes computed: city and county always, township when a target or the
        indicator's `township` flag asks for it."""
        townships = self.township or any(t.scope == "township" for t in self.targets)
        return SCOPES if townships else SCOPES[:2]

    def for_audience(self, audience: str) -> bool:
        return audience == INTERNAL or self.access == PUBLIC

    def targets_for(self, scope: str, code: str | None) -> tuple[Target, ...]:
        """The unit's targets, by year."""
        mine = [t for t in self.targets if t.scope == scope and (scope == "city" or t.code == code)]
        return tuple(sorted(mine, key=lambda t: t.year))

    def document(self) -> dict[str, Any]:
        """The indicator as monitoring/<aud>.json lists it."""
        return {
            "id": self.id,
            "name": {"zh": self.name.zh, "en": self.name.en},
            "unit": self.unit,
            "kind": self.kind,
            "formula": self.formula_text,
            "layers": list(self.layers),
            "additive": self.additive,
        }


@dataclass(frozen=True)
class Model:
    path: Path
    year: int
    band: float
    indicators: tuple[Indicator, ...]
    values: Values
    county_layer: str | None = None  # None: the admin layer with the fewest features
    township_layer: str | None = None  # None: the other admin layer

    def for_audience(self, audience: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.for_audience(audience))

    @property
    def target_years(self) -> list[int]:
        return sorted({t.year for i in self.indicators for t in i.targets})


def model_path(catalog: Catalog) -> Path | None:
    """The model file the catalog names (`indicators:`), None when it names none."""
    value = catalog.meta.get(MODEL_KEY)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ModelError(
            f"{catalog.path}: key {MODEL_KEY!r} must name the model file (got {value!r})"
        )
    return (catalog.path.parent / value).resolve()


def load_model(catalog: Catalog) -> Model | None:
    """The catalog's indicator model, read and checked; None when the catalog names none."""
    path = model_path(catalog)
    if path is None:
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the indicator model ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ModelError(f"{path}: not valid YAML ({exc})") from None
    return parse_model(doc, path, catalog)


def parse_model(doc: Any, path: Path, catalog: Catalog) -> Model:
    """The model document `doc` (read from `path`) checked against `catalog`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list):
        raise ModelError(f"{path}: expected a mapping with an 'indicators' list")
    _no_unknown_keys(doc, _MODEL_KEYS, str(path))
    year = doc.get("year")
    if not _is_int(year):
        raise ModelError(f"{path}: key 'year' must be a year such as 2025 (got {year!r})")
    band = doc.get("band", DEFAULT_BAND)
    if not _is_band(band):
        raise ModelError(f"{path}: key 'band' must be a fraction from 0 to 1 (got {band!r})")
    values = load_values(doc.get("values"), path)
    county, township = _scopes(doc.get("scopes"), path, catalog)
    indicators: list[Indicator] = []
    for index, entry in enumerate(doc["indicators"]):
        indicator = _indicator(entry, index, path, catalog, float(band), values)
        if any(i.id == indicator.id for i in indicators):
            raise ModelError(f"{path}: indicator {indicator.id!r}: key 'id' is not unique")
        indicators.append(indicator)
    return Model(path, int(year), float(band), tuple(indicators), values, county, township)


def _no_unknown_keys(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    if unknown := sorted(set(entry) - allowed):
        raise ModelError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_band(value: Any) -> bool:
    return _is_number(value) and 0 <= value < 1


def _scopes(value: Any, path: Path, catalog: Catalog) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) - {"county", "township"}:
        raise ModelError(f"{path}: key 'scopes' must map county and township to admin layers")
    admin = {s.id for s in catalog.by_role("admin")}
    for scope, layer in value.items():
        if layer not in admin:
            raise ModelError(
                f"{path}: key 'scopes': {scope} names {layer!r}, which is not an admin layer "
                f"of the catalog ({', '.join(sorted(admin)) or 'none'})"
            )
    return value.get("county"), value.get("township")


def _indicator(
    entry: Any, index: int, path: Path, catalog: Catalog, band: float, values: Values
) -> Indicator:
    where = f"{path}: indicator #{index + 1}"
    if not isinstance(entry, dict):
        raise ModelError(f"{where}: expected a mapping of keys")
    if isinstance(entry.get("id"), str):
        where = f"{path}: indicator {entry['id']!r}"
    for key in ("id", "name", "unit", "kind", "formula"):
        if entry.get(key) in (None, ""):
            raise ModelError(f"{where}: key {key!r} is required")
    _no_unknown_keys(entry, _INDICATOR_KEYS, where)

    def fail(key: str, problem: str) -> ModelError:
        return ModelError(f"{where}: key {key!r} {problem} (got {entry.get(key)!r})")

    if not isinstance(entry["id"], str) or not _ID.match(entry["id"]):
        raise fail("id", "must be snake_case: lower-case letters, digits and _")
    name = entry["name"]
    if not isinstance(name, dict) or not all(isinstance(name.get(k), str) for k in ("zh", "en")):
        raise fail("name", "must have 'zh' and 'en' strings")
    if entry["unit"] not in UNITS:
        raise fail("unit", f"must be one of {', '.join(UNITS)}")
    if entry["kind"] not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}")
    access = entry.get("access", PUBLIC)
    if access not in AUDIENCES:
        raise fail("access", f"must be one of {', '.join(AUDIENCES)}")
    if not isinstance(entry.get("township", False), bool):
        raise fail("township", "must be true or false")
    try:
        formula = parse_formula(entry["formula"])
    except FormulaError as exc:
        raise ModelError(f"{where}: key 'formula' {exc} (got {entry['formula']!r})") from None
    _check_formula(
        formula,
        catalog,
        access,
        values,
        lambda problem: ModelError(f"{where}: key 'formula': {problem}"),
    )
    if entry["unit"] == "%" and not (isinstance(formula, Quotient) and formula.kind == "share"):
        raise fail("unit", "'%' is for share(...) formulas")
    targets = entry.get("targets") or []
    if not isinstance(targets, list):
        raise fail("targets", "must be a list of targets")
    return Indicator(
        id=entry["id"],
        name=Title(name["zh"], name["en"]),
        unit=entry["unit"],
        kind=entry["kind"],
        formula_text=str(entry["formula"]).strip(),
        formula=formula,
        access=access,
        targets=tuple(_target(t, i, where, band) for i, t in enumerate(targets)),
        township=bool(entry.get("township", False)),
    )


def _check_formula(
    formula: Formula, catalog: Catalog, access: str, values: Values, fail: Any
) -> None:
    layers = {s.id: s for s in catalog.layers}
    for selection in formula_selections(formula):
        spec = layers.get(selection.layer)
        if spec is None:
            raise fail(f"unknown layer {selection.layer!r} (not in {catalog.path.name})")
        if access == PUBLIC and not spec.is_public:
            raise fail(f"layer {spec.id!r} is internal: the indicator must say 'access: internal'")
        for where in selection.where:
            _check_where(spec, where.field, where.values, fail)
    for area in _measured(formula):
        spec = layers[area]
        if spec.geometry != "polygon":
            raise fail(f"area() and overlap() need a polygon layer; {spec.id!r} is {spec.geometry}")
    for name in formula_values(formula):
        if values.path is None:
            raise fail(f"value({name}) needs the model's 'values' CSV")
        if name not in values.names:
            raise fail(f"value({name}): no figure {name!r} in {values.path.name}")


def _measured(formula: Formula) -> list[str]:
    """The layers whose areas the formula measures."""
    if isinstance(formula, Area):
        return [formula.selection.layer]
    if isinstance(formula, Overlap):
        return [formula.inner.layer, formula.outer.layer]
    if isinstance(formula, Quotient):
        return [*_measured(formula.numerator), *_measured(formula.denominator)]
    return []


def _check_where(spec: LayerSpec, field: str | None, wanted: tuple[str, ...], fail: Any) -> None:
    if field is not None:
        if field not in spec.fields:
            raise fail(
                f"unknown field {field!r} of layer {spec.id!r} (published: {', '.join(spec.fields)})"
            )
        return
    if not spec.code_field:
        raise fail(f"code=: layer {spec.id!r} has no code_field")
    from publish.standards import land_use_classes

    if spec.role not in ("land_use", "current_use"):
        return  # a code field without a national classification (planning zones): any prefix
    classes = land_use_classes()
    for code in wanted:
        if code not in classes:
            raise fail(
                f"unknown code {code!r} for layer {spec.id!r} (not a class of the national "
                "land-use classification 用地用海)"
            )


def _target(entry: Any, index: int, where: str, band: float) -> Target:
    here = f"{where}: key 'targets' #{index + 1}"
    if not isinstance(entry, dict):
        raise ModelError(f"{here}: expected a mapping of keys")
    _no_unknown_keys(entry, _TARGET_KEYS, here)

    def fail(key: str, problem: str) -> ModelError:
        return ModelError(f"{here}: key {key!r} {problem} (got {entry.get(key)!r})")

    scope = entry.get("scope")
    if scope not in SCOPES:
        raise fail("scope", f"must be one of {', '.join(SCOPES)}")
    code = entry.get("code")
    if scope == "city" and code is not None:
        raise fail("code", "is not for the city scope")
    if scope != "city" and (
        not isinstance(code, str | int) or isinstance(code, bool) or not str(code)
    ):
        raise fail("code", f'is required for scope {scope!r} (the unit\'s code, e.g. "430802")')
    if not _is_int(entry.get("year")):
        raise fail("year", "must be a year such as 2035")
    rule = entry.get("rule")
    if rule not in RULES:
        raise fail("rule", f"must be one of {', '.join(RULES)}")
    value = entry.get("target")
    target: float | tuple[float, float]
    if rule == "between":
        if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)):
            raise fail("target", "must be [low, high] for rule 'between'")
        if value[0] > value[1]:
            raise fail("target", "must be [low, high] with low <= high")
        target = (float(value[0]), float(value[1]))
    else:
        if not _is_number(value):
            raise fail("target", f"must be a number for rule {rule!r}")
        target = float(value)
    own = entry.get("band", band)
    if not _is_band(own):
        raise fail("band", "must be a fraction from 0 to 1")
    return Target(
        scope, None if code is None else str(code), int(entry["year"]), rule, target, float(own)
    )
