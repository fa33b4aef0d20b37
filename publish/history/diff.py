"""The diff of two releases (版本差异): per layer, the features added, removed and changed,
matched by the catalog's ``id_field`` (BSM), with totals per layer, per county and per
first-level land-use class, and the control lines' indicator deltas.

    diffs = compare_releases(old_dir, new_dir)          # {audience: ReleaseDiff}, read once
    diff = diff_releases(old_dir, new_dir, "public")    # one audience
    doc = diff.to_dict()                                # the JSON document below
    write_diff(diff, folder)                            # diff.json, diff.html (history.report)

A release is its folder, or a Snapshot (publish.history.snapshot.open_snapshot(folder,
manifest)) for one whose manifest.json is not written yet: a build diffing the release it is
staging against the one it replaces passes the manifest as it stands (``catalog``, ``layers``,
``audiences`` with ``features``, ``indicators``).

How features are matched and compared: publish.history.matching (ids, SQLite row comparison)
and publish.history.measure (geometry: equals_exact, symmetric difference area, tolerance).
A layer whose manifest fingerprint is the same in both releases was built from the same
sources with the same tools into the same table: it is not read (``use_fingerprints``).

Audiences. The public diff holds only layers the public sees: a layer is in an audience's diff
when the new release shows it to that audience, or when the new release no longer has it and
the old one showed it. Each side counts only if that release showed the layer to the audience
(a layer made public is *added* for the public). The public diff never names an internal layer:
not in its layers, totals, counts, counties (the county layer is the audience's own) or
indicators (each release's indicators for that audience).

Features whose id is missing, or repeated within one release, are not matched: they are
counted and the first few named per side (``ids``), never guessed.

The JSON document (``diff.json``; schema ``onemap-diff/1``)::

    {
      "schema": "onemap-diff/1",
      "audience": "public" | "internal",
      "created": "2026-12-04T23:50:00+00:00",          # when the diff was made (UTC)
      "old": {"release": "<id>", "created": "<time>"},
      "new": {"release": "<id>", "created": "<time>"},
      "city": {"code": "430800", "name": "张家界市"},
      "crs": "EPSG:4546",                                # areas are measured in it
      "tolerance": {"area_m2": 1.0, "shift_m": 0.01},    # see publish.history.measure
      "summary": {"layers": 13, "layers_changed": 2, "added": 3, "removed": 1, "changed": 5},
      "layers": [                                        # every layer of the audience
        {
          "id": "dltb", "title": {"zh": "…", "en": "…"}, "role": "current_use",
          "geometry": "polygon" | "line" | "point",
          "status": "kept" | "added" | "removed",          # the layer itself, for the audience
          "id_field": "BSM", "code_field": "DLBM" | null,
          "compared": true,                                # false: same fingerprint, not read
          "features": {"old": 2000, "new": 2001, "matched": 1998},
          "catalog": {"access": ["internal", "public"], ...},   # changed catalog keys, old→new
          "fields": {"added": ["…"], "removed": ["…"]},   # published fields; compared: the rest
          "ids": {"old": {"missing": 0, "missing_fids": [], "duplicated": 2,
                          "duplicated_ids": [1001]}, "new": {...}},
          "totals": {"added": 1, "removed": 0, "changed": 2, "geometry_changed": 1,
                     "attributes_changed": 1,
                     # polygons only: area gained and lost, m² and 公顷 (ha)
                     "gained_m2": 1520.5, "lost_m2": 10.2, "net_m2": 1510.3,
                     "gained_ha": 0.152, "lost_ha": 0.001, "net_ha": 0.151},
          "changes": [
            {"id": 1001, "kind": "added" | "removed" | "changed",
             "geometry": true,                    # the geometry changed (always, added/removed)
             "fields": {"DLBM": ["0101", "0301"]},  # changed attributes: [old, new]
             "area_m2": -10.2,                    # new area − old area (polygons; else null)
             "gained_m2": 0.0, "lost_m2": 10.2,   # polygons; else null
             "shift_m": null,                     # lines, points: Hausdorff distance moved
             "code": ["0101", "0301"],            # the code field old → new (layers with one)
             "county": "430802",                  # county of the point below (null: none)
             "lonlat": [110.48, 29.13]}           # a point on the feature (new; old if removed)
          ]
        }
      ],
      "counties": {"layer": "xzq_xian", "field": "XZQDM",    # null: no county layer, no change
                   "units": [{"code": "430802", "name": "永定区",
                              "layers": {"dltb": {<totals as above>}}}]},   # code null: outside
      "land_use": {"layer": "ydyh", "field": "YDYHFLDM",     # null without a land-use layer
                   "classes": [{"code": "07", "name": "居住用地", "gained_m2": …, "lost_m2": …,
                                "net_m2": …, "gained_ha": …, "lost_ha": …, "net_ha": …}]},
      "indicators": {"city": {"code", "name",
                              "red_line": {"old_km2", "new_km2", "delta_km2",
                                           "old_share", "new_share"},
                              "farmland": {…}, "urban_boundary": {…}},
                     "counties": [{"code", "name", "red_line": {…}, …}]}
    }

A feature listed as changed changed its geometry beyond the tolerance, or an attribute, or
both; geometry noise below the tolerance is neither listed nor counted (its ``area_m2`` is 0
when only attributes changed). Areas are measured in the new release's working CRS.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio

from publish.catalog import LayerSpec, Title
from publish.domain import AUDIENCES, INTERNAL
from publish.errors import DiffError
from publish.features.indicators import county_layer
from publish.history.changes import ADDED, CHANGE_COLUMNS, CHANGED, REMOVED, change_table, empty
from publish.history.matching import (
    NEW,
    OLD,
    IdProblems,
    Pair,
    Side,
    describe_side,
    match_layer,
    open_pair,
)
from publish.history.measure import Tolerance
from publish.history.snapshot import Snapshot, open_snapshot
from publish.history.totals import (
    Counties,
    class_totals,
    county_totals,
    indicator_deltas,
    layer_totals,
)

__all__ = ["SCHEMA", "LayerDiff", "ReleaseDiff", "compare_releases", "diff_releases"]

SCHEMA = "onemap-diff/1"
KEPT = "kept"
_CATALOG_KEYS = ("access", "role", "id_field", "code_field", "geometry", "title_zh", "title_en")


@dataclass(frozen=True)
class LayerDiff:
    """One layer's changes for one audience. ``changes`` is its change table
    (publish.history.changes: one row per changed feature)."""

    id: str
    title: Title
    role: str
    geometry: str
    status: str  # kept | added | removed
    id_field: str
    code_field: str | None
    changes: pd.DataFrame
    old_count: int
    new_count: int
    matched: int
    compared: bool = True
    catalog: dict[str, list[Any]] = field(default_factory=dict)
    fields_added: tuple[str, ...] = ()
    fields_removed: tuple[str, ...] = ()
    old_ids: IdProblems = field(default_factory=IdProblems)
    new_ids: IdProblems = field(default_factory=IdProblems)

    @property
    def polygons(self) -> bool:
        return self.geometry == "polygon"

    @property
    def changed(self) -> bool:
        """Anything to report: features, id problems, fields, catalog keys or the layer itself."""
        return bool(
            len(self.changes)
            or self.status != KEPT
            or self.catalog
            or self.fields_added
            or self.fields_removed
            or self.old_ids
            or self.new_ids
        )

    def totals(self) -> dict[str, Any]:
        return layer_totals(self.changes, polygons=self.polygons)


@dataclass(frozen=True)
class ReleaseDiff:
    """The diff of two releases for one audience (see the module docstring)."""

    audience: str
    old: Snapshot
    new: Snapshot
    created: datetime
    tolerance: Tolerance
    layers: tuple[LayerDiff, ...]
    counties: Counties | None
    land_use: LayerDiff | None

    @property
    def changed_layers(self) -> tuple[LayerDiff, ...]:
        return tuple(layer for layer in self.layers if layer.changed)

    @property
    def empty(self) -> bool:
        return not self.changed_layers

    def county_of(self, layer: LayerDiff) -> np.ndarray:
        """The county code of each change of `layer` (None: outside, or no county layer)."""
        changes = layer.changes
        if self.counties is None:
            return np.full(len(changes), None, dtype=object)
        lon = changes["lon"].to_numpy(dtype=float)
        return self.counties.assign(lon, changes["lat"].to_numpy(dtype=float))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema in the module docstring)."""
        counties = {layer.id: self.county_of(layer) for layer in self.layers}
        layers = [_layer_dict(layer, counties[layer.id]) for layer in self.layers]
        totals = [entry["totals"] for entry in layers]
        city = self.new.city or self.old.city
        return {
            "schema": SCHEMA,
            "audience": self.audience,
            "created": self.created.isoformat(timespec="seconds"),
            "old": {"release": self.old.id, "created": self.old.created},
            "new": {"release": self.new.id, "created": self.new.created},
            "city": {"code": city.get("code"), "name": city.get("name")},
            "crs": self.new.catalog.crs,
            "tolerance": self.tolerance.to_dict(),
            "summary": {
                "layers": len(self.layers),
                "layers_changed": len(self.changed_layers),
                **{kind: sum(t[kind] for t in totals) for kind in (ADDED, REMOVED, CHANGED)},
            },
            "layers": layers,
            "counties": self._county_dict(counties),
            "land_use": self._land_use_dict(),
            "indicators": self.indicators(),
        }

    def indicators(self) -> dict[str, Any]:
        """The control lines' areas old → new (the audience's own indicators)."""
        return indicator_deltas(
            self.old.indicators(self.audience), self.new.indicators(self.audience)
        )

    def _county_dict(self, counties: dict[str, np.ndarray]) -> dict[str, Any] | None:
        if self.counties is None:
            return None
        tables = {
            layer.id: (layer.changes.assign(county=counties[layer.id]), layer.polygons)
            for layer in self.layers
        }
        return county_totals(self.counties, tables)

    def _land_use_dict(self) -> dict[str, Any] | None:
        layer = self.land_use
        if layer is None:
            return None
        return {
            "layer": layer.id,
            "field": layer.code_field,
            "classes": class_totals(layer.changes),
        }


# -- JSON ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value read from a table as JSON holds it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def _round(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 2)


def _changes_list(layer: LayerDiff, counties: np.ndarray) -> list[dict[str, Any]]:
    frame = layer.changes
    has_code = layer.code_field is not None
    out = []
    columns = [frame[c].to_numpy() for c in CHANGE_COLUMNS]
    for i, row in enumerate(zip(*columns, strict=True)):
        values = dict(zip(CHANGE_COLUMNS, row, strict=True))
        entry: dict[str, Any] = {
            "id": _plain(values["id"]),
            "kind": values["kind"],
            "geometry": bool(values["geometry"]),
            "fields": {k: [_plain(a), _plain(b)] for k, (a, b) in (values["fields"] or {}).items()},
            "area_m2": _round(values["area_m2"]) if layer.polygons else None,
            "gained_m2": _round(values["gained_m2"]) if layer.polygons else None,
            "lost_m2": _round(values["lost_m2"]) if layer.polygons else None,
            "shift_m": None if layer.polygons else _round(values["shift_m"]),
        }
        if has_code:
            entry["code"] = [_plain(values["old_code"]), _plain(values["new_code"])]
        entry["county"] = counties[i]
        lon, lat = values["lon"], values["lat"]
        entry["lonlat"] = None if np.isnan(lon) else [round(lon, 6), round(lat, 6)]
        out.append(entry)
    return out


def _ids_dict(problems: IdProblems) -> dict[str, Any]:
    return {
        "missing": problems.missing,
        "missing_fids": list(problems.missing_fids),
        "duplicated": problems.duplicated,
        "duplicated_ids": [_plain(v) for v in problems.duplicated_ids],
    }


def _layer_dict(layer: LayerDiff, counties: np.ndarray) -> dict[str, Any]:
    return {
        "id": layer.id,
        "title": {"zh": layer.title.zh, "en": layer.title.en},
        "role": layer.role,
        "geometry": layer.geometry,
        "status": layer.status,
        "id_field": layer.id_field,
        "code_field": layer.code_field,
        "compared": layer.compared,
        "features": {"old": layer.old_count, "new": layer.new_count, "matched": layer.matched},
        "catalog": layer.catalog,
        "fields": {"added": list(layer.fields_added), "removed": list(layer.fields_removed)},
        "ids": {"old": _ids_dict(layer.old_ids), "new": _ids_dict(layer.new_ids)},
        "totals": layer.totals(),
        "changes": _changes_list(layer, counties),
    }


# -- one layer -----------------------------------------------------------------------------------


def _side(pair: Pair, schema: str, snapshot: Snapshot, spec: LayerSpec | None) -> Side | None:
    if spec is None:
        return None
    return describe_side(
        pair.main, schema, snapshot.features, spec.id, spec.id_field, spec.fields, spec.code_field
    )


def _catalog_changes(old: LayerSpec, new: LayerSpec) -> dict[str, list[Any]]:
    return {
        key.replace("title_", "title."): [getattr(old, key), getattr(new, key)]
        for key in _CATALOG_KEYS
        if getattr(old, key) != getattr(new, key)
    }


def _layer_diff(
    pair: Pair,
    old: Snapshot,
    new: Snapshot,
    old_spec: LayerSpec | None,
    new_spec: LayerSpec | None,
    *,
    tolerance: Tolerance,
    use_fingerprints: bool,
) -> LayerDiff:
    spec = new_spec or old_spec
    if spec is None:
        raise ValueError("a layer diff needs the layer on at least one side")
    layer = LayerDiff(
        id=spec.id,
        title=Title(spec.title_zh, spec.title_en),
        role=spec.role,
        geometry=spec.geometry or "polygon",
        status=KEPT if old_spec and new_spec else (ADDED if new_spec else REMOVED),
        id_field=spec.id_field,
        code_field=spec.code_field,
        changes=empty(),
        old_count=int(old.layer_entry(spec.id).get("features", 0)) if old_spec else 0,
        new_count=int(new.layer_entry(spec.id).get("features", 0)) if new_spec else 0,
        matched=0,
    )
    if old_spec and new_spec:
        layer = replace(
            layer,
            catalog=_catalog_changes(old_spec, new_spec),
            fields_added=tuple(f for f in new_spec.fields if f not in old_spec.fields),
            fields_removed=tuple(f for f in old_spec.fields if f not in new_spec.fields),
        )
        fingerprint = old.layer_entry(spec.id).get("fingerprint")
        same = fingerprint and fingerprint == new.layer_entry(spec.id).get("fingerprint")
        if use_fingerprints and same:
            return replace(layer, matched=layer.new_count, compared=False)
    try:
        match = match_layer(pair, _side(pair, OLD, old, old_spec), _side(pair, NEW, new, new_spec))
    except sqlite3.Error as exc:
        raise DiffError(f"layer {spec.id!r}: its tables cannot be read ({exc})") from exc
    changes = change_table(match, spec, new.catalog.crs, tolerance, f"layer {spec.id!r}")
    return replace(
        layer,
        changes=changes,
        matched=match.matched,
        old_ids=match.old_problems,
        new_ids=match.new_problems,
    )


# -- releases ------------------------------------------------------------------------------------


def _plan(
    old: Snapshot, new: Snapshot, audience: str
) -> list[tuple[str, LayerSpec | None, LayerSpec | None]]:
    """(layer id, old side, new side) of each layer in the audience's diff, in the new
    catalog's order, then the layers the new release no longer has."""
    old_visible, new_visible = old.visible(audience), new.visible(audience)
    new_ids = {spec.id for spec in new.catalog.layers}
    plan: list[tuple[str, LayerSpec | None, LayerSpec | None]] = [
        (lid, old_visible.get(lid), spec) for lid, spec in new_visible.items()
    ]
    plan += [(lid, spec, None) for lid, spec in old_visible.items() if lid not in new_ids]
    return plan


def _counties(
    snapshot: Snapshot, audience: str, read: dict[tuple[Path, str], Counties | None]
) -> Counties | None:
    """The audience's county layer in a release: its administrative layer with the fewest
    features, as the build's indicators choose it (`read`: those already read)."""
    counts = {
        lid: int(snapshot.layer_entry(lid).get("features", 0)) for lid in snapshot.visible(audience)
    }
    layer_id = county_layer(snapshot.catalog, counts)
    if layer_id is None:
        return None
    key = (snapshot.root, layer_id)
    if key not in read:
        read[key] = _read_counties(snapshot, layer_id)
    return read[key]


def _read_counties(snapshot: Snapshot, layer_id: str) -> Counties | None:
    try:
        frame = pyogrio.read_dataframe(snapshot.features, layer=layer_id)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise DiffError(f"{snapshot.features}: county layer {layer_id!r}: {exc}") from exc
    return Counties.from_frame(layer_id, frame)


def compare_releases(
    old: Path | Snapshot,
    new: Path | Snapshot,
    *,
    audiences: Sequence[str] = AUDIENCES,
    tolerance: Tolerance | None = None,
    use_fingerprints: bool = True,
    now: datetime | None = None,
) -> dict[str, ReleaseDiff]:
    """The diff of release `old` to release `new` (folders or snapshots) for each audience.
    A layer both audiences see alike is compared once. Raises DiffError for releases of
    different cities or an unknown audience, ReleaseError for a folder that is not a readable
    release."""
    unknown = [a for a in audiences if a not in AUDIENCES]
    if unknown:
        raise DiffError(f"unknown audience {unknown[0]!r} (expected {', '.join(AUDIENCES)})")
    old_snap = old if isinstance(old, Snapshot) else open_snapshot(old)
    new_snap = new if isinstance(new, Snapshot) else open_snapshot(new)
    if old_snap.city_code != new_snap.city_code:
        raise DiffError(
            f"releases {old_snap.id} and {new_snap.id} are of different cities "
            f"(city.code {old_snap.city_code} and {new_snap.city_code})"
        )
    tolerance = tolerance or Tolerance()
    created = now or datetime.now(UTC)
    done: dict[tuple[str, bool, bool], LayerDiff] = {}
    counties_read: dict[tuple[Path, str], Counties | None] = {}
    out: dict[str, ReleaseDiff] = {}
    with open_pair(old_snap.features, new_snap.features) as pair:
        for audience in audiences:
            layers = []
            for layer_id, old_spec, new_spec in _plan(old_snap, new_snap, audience):
                key = (layer_id, old_spec is not None, new_spec is not None)
                if key not in done:
                    done[key] = _layer_diff(
                        pair,
                        old_snap,
                        new_snap,
                        old_spec,
                        new_spec,
                        tolerance=tolerance,
                        use_fingerprints=use_fingerprints,
                    )
                layers.append(done[key])
            counties = None
            if any(len(layer.changes) for layer in layers):
                counties = _counties(new_snap, audience, counties_read) or _counties(
                    old_snap, audience, counties_read
                )
            land_use = next((layer for layer in layers if layer.role == "land_use"), None)
            out[audience] = ReleaseDiff(
                audience=audience,
                old=old_snap,
                new=new_snap,
                created=created,
                tolerance=tolerance,
                layers=tuple(layers),
                counties=counties,
                land_use=land_use,
            )
    return out


def diff_releases(
    old: Path | Snapshot, new: Path | Snapshot, audience: str = INTERNAL, **options: Any
) -> ReleaseDiff:
    """The diff of two release folders for one audience (see compare_releases)."""
    return compare_releases(old, new, audiences=(audience,), **options)[audience]
