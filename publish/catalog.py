"""The layer catalog (layers.yml): the one file planners edit to publish a layer.

Every error names the file, the layer and the key, so a typo is found without reading code. The
`city` block names the city (`code`, `name`) and its working CRS (`crs`, a projected CRS in metres:
the review's and the indicators' areas are measured in it; publish.domain.DEFAULT_CRS when absent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from publish.domain import AUDIENCES, DEFAULT_CRS, INTERNAL, PUBLIC
from publish.errors import CatalogError

ROLES = (
    "red_line",
    "farmland",
    "urban_boundary",
    "planning_zone",
    "land_use",
    "current_use",
    "admin",
    "other",
)
# Roles whose features must be polygons; "other" layers may hold any geometry.
POLYGON_ROLES = frozenset(ROLES) - {"other"}
CONTROL_LINE_ROLES = ("red_line", "farmland", "urban_boundary")
GEOMETRY_TYPES = ("polygon", "line", "point")
GCJ02 = "GCJ-02"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# The id is also a GeoPackage table name in the feature store, beside the `plan_areas`,
# `indicators` and `indicators_map` tables (and `indicators` is the OGC collection of the latter).
_RESERVED_PREFIXES = ("gpkg", "rtree_", "sqlite_")
_RESERVED_IDS = frozenset({"indicators", "indicators_map", "plan_areas"})
_KEYS = {
    "id",
    "title",
    "source",
    "layer",
    "encoding",
    "crs",
    "access",
    "role",
    "code_field",
    "name_field",
    "id_field",
    "geometry",
    "group",
    "fields",
    "minzoom",
    "maxzoom",
    "description",
    "field_titles",
    "indexed_fields",
}
_REQUIRED = ("id", "title", "source", "access", "role", "fields")


class Title(NamedTuple):
    """A name in Chinese and in English."""

    zh: str
    en: str


@dataclass(frozen=True)
class LayerSpec:
    """One catalog entry, validated."""

    id: str
    title_zh: str
    title_en: str
    source: Path  # absolute
    access: str
    role: str
    fields: tuple[str, ...]
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    id_field: str = "BSM"
    geometry: str | None = None
    group: str | None = None  # the group's Chinese name: its key (style metadata, viewer order)
    group_en: str | None = None
    # the catalog's own titles of published fields (others come from the database standard)
    field_titles: tuple[tuple[str, Title], ...] = ()
    # published fields the feature tables index for filters, beside the code and name fields
    indexed_fields: tuple[str, ...] = ()
    minzoom: int = 0
    maxzoom: int = 14
    description: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_public(self) -> bool:
        return self.access == PUBLIC

    @property
    def query_indexes(self) -> tuple[str, ...]:
        """The fields the layer's feature tables (GeoPackage and PostGIS) hold an index on: its
        code and name fields and the catalog's `indexed_fields`, in that order, once each."""
        wanted = (self.code_field, self.name_field, *self.indexed_fields)
        return tuple(dict.fromkeys(f for f in wanted if f))

    def field_title(self, name: str) -> Title:
        """A field's title: the catalog's own, else the planning database standard's
        (publish/standards/fields.csv), else the field's name."""
        from publish.standards.fields import standard_field_titles

        own = dict(self.field_titles).get(name)
        if own is not None:
            return own
        standard = standard_field_titles().get(name)
        return Title(*standard) if standard else Title(name, name)


@dataclass(frozen=True)
class Catalog:
    path: Path
    layers: tuple[LayerSpec, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    crs: str = DEFAULT_CRS  # the city's working CRS, as EPSG:<code>

    def layer(self, layer_id: str) -> LayerSpec:
        for spec in self.layers:
            if spec.id == layer_id:
                return spec
        raise CatalogError(f"{self.path}: no layer with id {layer_id!r}")

    def for_audience(self, audience: str) -> tuple[LayerSpec, ...]:
        """Layers an audience sees: the public sees public layers, staff see every layer."""
        if audience == INTERNAL:
            return self.layers
        return tuple(spec for spec in self.layers if spec.is_public)

    def by_role(self, role: str) -> tuple[LayerSpec, ...]:
        return tuple(spec for spec in self.layers if spec.role == role)

    def document(self) -> dict[str, Any]:
        """The catalog as it was loaded and checked, its working CRS written out in the city
        block: what a release keeps as its catalog.yml."""
        city = {**dict(self.meta.get("city") or {}), "crs": self.crs}
        return {**self.meta, "city": city, "layers": [dict(spec.raw) for spec in self.layers]}

    def document_text(self) -> str:
        """`document()` as YAML."""
        return yaml.safe_dump(self.document(), allow_unicode=True, sort_keys=False, width=100)


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog file; raise CatalogError naming file, layer and key."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc.strerror})") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML ({exc})") from exc
    return parse_catalog(doc, path)


def parse_catalog(doc: Any, path: Path) -> Catalog:
    if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        raise CatalogError(f"{path}: expected a mapping with a 'layers' list")
    if not doc["layers"]:
        raise CatalogError(f"{path}: 'layers' is empty")
    specs: list[LayerSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(doc["layers"]):
        spec = _parse_layer(entry, index, path)
        if spec.id in seen:
            raise CatalogError(f"{path}: layer {spec.id!r}: key 'id' is not unique")
        seen.add(spec.id)
        specs.append(spec)
    meta = {key: value for key, value in doc.items() if key != "layers"}
    return Catalog(path=path, layers=tuple(specs), meta=meta, crs=_city_crs(doc.get("city"), path))


def _city_crs(city: Any, path: Path) -> str:
    """The working CRS the `city` block names (DEFAULT_CRS when it names none), as EPSG:<code>:
    a projected CRS in metres, which areas are measured in."""
    if city is None:
        return DEFAULT_CRS
    if not isinstance(city, dict):
        raise CatalogError(f"{path}: city: expected a mapping of keys (code, name, crs)")
    value = city.get("crs")
    if value is None:
        return DEFAULT_CRS

    def fail(problem: str) -> CatalogError:
        return CatalogError(f"{path}: city: key 'crs' {problem} (got {value!r})")

    if not isinstance(value, str):
        raise fail("must be a string such as EPSG:4546")
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(value)
    except CRSError:
        raise fail("is not a CRS pyproj knows (e.g. EPSG:4546)") from None
    metres = all(axis.unit_name in ("metre", "meter") for axis in crs.axis_info)
    if not crs.is_projected or not metres:
        raise fail("must be a projected CRS in metres")
    code = crs.to_epsg()
    if code is None:
        raise fail("must be named by its EPSG code (e.g. EPSG:4546)")
    return f"EPSG:{code}"


def _parse_layer(entry: Any, index: int, path: Path) -> LayerSpec:
    where = f"{path}: layer #{index + 1}"
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: expected a mapping of keys")
    if isinstance(entry.get("id"), str):
        where = f"{path}: layer {entry['id']!r}"
    for key in _REQUIRED:
        if entry.get(key) in (None, "", []):
            raise CatalogError(f"{where}: key {key!r} is required")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise CatalogError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
        )

    def fail(key: str, problem: str) -> CatalogError:
        return CatalogError(f"{where}: key {key!r} {problem} (got {entry.get(key)!r})")

    layer_id = entry["id"]
    if not isinstance(layer_id, str) or not _ID.match(layer_id):
        raise fail("id", "must be snake_case: lower-case letters, digits and _")
    if layer_id.startswith(_RESERVED_PREFIXES) or layer_id in _RESERVED_IDS:
        raise fail(
            "id",
            "is reserved (GeoPackage/SQLite table prefixes gpkg, rtree, sqlite; "
            "indicators, indicators_map, plan_areas)",
        )
    title = _title(entry["title"])
    if title is None:
        raise fail("title", "must have 'zh' and 'en' strings")
    if entry["access"] not in AUDIENCES:
        raise fail("access", f"must be one of {', '.join(AUDIENCES)}")
    if entry["role"] not in ROLES:
        raise fail("role", f"must be one of {', '.join(ROLES)}")
    fields = entry["fields"]
    if not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields):
        raise fail("fields", "must be a list of attribute names")
    if len(set(fields)) != len(fields):
        raise fail("fields", "lists an attribute twice")
    for key in ("layer", "encoding", "crs", "code_field", "name_field", "id_field"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise fail(key, "must be a string")
    group = _title(entry["group"]) if entry.get("group") is not None else None
    if entry.get("group") is not None and group is None:
        raise fail("group", "must be a string or have 'zh' and 'en' strings")
    field_titles = _field_titles(entry.get("field_titles"), fields, where)
    if entry.get("encoding"):
        import codecs

        try:
            codecs.lookup(entry["encoding"])
        except LookupError:
            raise fail("encoding", "is not a known text encoding") from None
    if entry.get("crs"):
        _check_crs(entry["crs"], fail)
    if entry["role"] in ("land_use", "current_use") and not entry.get("code_field"):
        raise CatalogError(f"{where}: key 'code_field' is required for role {entry['role']!r}")
    for key in ("code_field", "name_field"):
        if entry.get(key) and entry[key] not in fields:
            raise fail(key, "must be one of the layer's 'fields'")
    indexed = entry.get("indexed_fields", [])
    if not isinstance(indexed, list) or not all(isinstance(f, str) for f in indexed):
        raise fail("indexed_fields", "must be a list of field names")
    if unlisted := [f for f in indexed if f not in fields]:
        raise fail("indexed_fields", f"names {unlisted[0]!r}, not one of the layer's 'fields'")
    geometry = entry.get("geometry")
    if geometry is not None and geometry not in GEOMETRY_TYPES:
        raise fail("geometry", f"must be one of {', '.join(GEOMETRY_TYPES)}")
    if entry["role"] in POLYGON_ROLES and geometry not in (None, "polygon"):
        raise fail("geometry", f"must be 'polygon' for role {entry['role']!r}")
    zooms = {}
    for key, default in (("minzoom", 0), ("maxzoom", 14)):
        value = entry.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 16:
            raise fail(key, "must be an integer from 0 to 16")
        zooms[key] = value
    if zooms["minzoom"] > zooms["maxzoom"]:
        raise fail("minzoom", "must not exceed 'maxzoom'")
    source = (path.parent / str(entry["source"])).resolve()

    return LayerSpec(
        id=layer_id,
        title_zh=title.zh,
        title_en=title.en,
        source=source,
        access=entry["access"],
        role=entry["role"],
        fields=tuple(fields),
        layer=entry.get("layer"),
        encoding=entry.get("encoding"),
        crs=entry.get("crs"),
        code_field=entry.get("code_field"),
        name_field=entry.get("name_field"),
        id_field=entry.get("id_field") or "BSM",
        geometry=geometry or ("polygon" if entry["role"] in POLYGON_ROLES else None),
        group=group.zh if group else None,
        group_en=group.en if group else None,
        field_titles=field_titles,
        indexed_fields=tuple(dict.fromkeys(indexed)),
        minzoom=zooms["minzoom"],
        maxzoom=zooms["maxzoom"],
        description=entry.get("description"),
        raw=dict(entry),
    )


def _title(value: Any) -> Title | None:
    """A title as the catalog writes it: one string for both languages, or {zh, en}."""
    if isinstance(value, str) and value:
        return Title(value, value)
    if isinstance(value, dict) and all(isinstance(value.get(k), str) for k in ("zh", "en")):
        return Title(value["zh"], value["en"])
    return None


def _field_titles(value: Any, fields: list[str], where: str) -> tuple[tuple[str, Title], ...]:
    """`field_titles: {FIELD: {zh, en}}`: titles for published fields the standard lacks."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise CatalogError(
            f"{where}: key 'field_titles' must map field names to {{zh, en}} titles (got {value!r})"
        )
    titles = []
    for name, given in value.items():
        if name not in fields:
            raise CatalogError(
                f"{where}: key 'field_titles' names {name!r}, which is not one of the "
                "layer's 'fields'"
            )
        title = _title(given)
        if title is None:
            raise CatalogError(
                f"{where}: key 'field_titles': {name!r} must be a string or have 'zh' and "
                f"'en' strings (got {given!r})"
            )
        titles.append((name, title))
    return tuple(titles)


def _check_crs(value: str, fail: Any) -> None:
    if value.upper() == GCJ02:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(value)
    except CRSError:
        raise fail("crs", "is not a CRS pyproj knows (e.g. EPSG:4490, EPSG:4546, GCJ-02)") from None
