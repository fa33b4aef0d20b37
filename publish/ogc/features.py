"""pygeoapi feature provider on a release's GeoPackage: R-tree bbox, exact filter, numberMatched.

Configured as (publish.ogc.config writes it):

    type: feature
    name: publish.ogc.features.GeoPackageProvider
    data: /…/features/public.gpkg      # the server makes the release-relative path absolute
    table: stbhhx
    id_field: fid
    title_field: XZQMC                 # the layer's name field: labels, and `q` searches it
    code_field: DLBM                   # land-use layers: `q` also searches the code's name
    storage_crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    crs: [CRS84, EPSG:4326, EPSG:4490, EPSG:4546]   # OGC URIs; the last is the city's CRS

pygeoapi creates a provider per request; the server keeps one per collection of a served
release instead (publish.ogc.providers), and the GeoPackage itself is opened once and shared
(`open_geopackage`). pygeoapi turns `bbox-crs` into a storage-CRS bbox before calling `query`
(its `transform_bbox`: two corners, authority axis order) and hands us a `crs_transform_spec` for
`crs`; output coordinates are transformed here on whole arrays, in the target CRS's authority axis
order (EPSG:4490: lat, lon), as pygeoapi's own `crs_transform` decorator would.

A CQL2 `filter` arrives parsed (publish.ogc.cql: the items route parses it, pygeoapi's ECQL
parser never sees it) and becomes an SQL condition (publish.ogc.where) beside bbox, property
equality and `q`, so every selection is one query and `numberMatched` agrees with the pages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pygeoapi.provider.base import (
    BaseProvider,
    ProviderConnectionError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

from publish.gpkg.errors import GeoPackageError
from publish.gpkg.reader import open_geopackage
from publish.ogc.cql import Filter, FilterError, request_filter
from publish.ogc.encoding import arrays_allowed
from publish.ogc.geometry import geojson_arrays, to_geojson, transform
from publish.ogc.query import FeaturePage, FeatureQuery, QueryError, get_feature, run_query
from publish.ogc.where import (
    Condition,
    all_of,
    filter_selection,
    search_condition,
    value_selection,
)

log = logging.getLogger("publish.ogc")


def _bbox(values: Sequence[float]) -> tuple[float, float, float, float] | None:
    if not values:
        return None
    v = [float(x) for x in values]
    if len(v) == 6:  # 3D box: minx, miny, minz, maxx, maxy, maxz
        v = [v[0], v[1], v[3], v[4]]
    if len(v) != 4:
        raise ProviderInvalidQueryError(user_msg="bbox needs 4 or 6 numbers")
    return v[0], v[1], v[2], v[3]


class GeoPackageProvider(BaseProvider):
    """Features of one GeoPackage table (provider option `table`)."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        table = provider_def.get("table")
        if not table:
            raise ProviderConnectionError(user_msg="the provider needs a `table`")
        try:
            self._gpkg = open_geopackage(self.data)
            self._table = self._gpkg.table(str(table))
        except GeoPackageError as exc:
            log.error("%s", exc)
            raise ProviderConnectionError(str(exc)) from exc
        self.table = self._table.name
        self.id_field = self._table.id_column
        self._fields = self.get_fields()
        self._code_field: str | None = provider_def.get("code_field")

    def __repr__(self) -> str:
        return f"<GeoPackageProvider {self.data}:{self.table}>"

    def get_fields(self) -> dict[str, dict[str, str]]:
        """Published attributes and their JSON Schema types (the `properties` option limits)."""
        wanted = set(self.properties or ())
        return {
            name: dict(kind)
            for name, kind in self._table.columns.items()
            if not wanted or name in wanted
        }

    # -- queries -----------------------------------------------------------------------------

    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: Sequence[float] = (),
        datetime_: str | None = None,
        properties: Sequence[tuple[str, str]] = (),
        sortby: Sequence[dict[str, str]] = (),
        select_properties: Sequence[str] = (),
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        crs_transform_spec: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A GeoJSON FeatureCollection with numberMatched and numberReturned."""
        if datetime_:
            raise ProviderInvalidQueryError(user_msg="this collection has no time")
        filtered = request_filter() if filterq is None else Filter(filterq)
        where, matched, at_most = self._condition(filtered, q)
        query = FeatureQuery(
            bbox=_bbox(bbox),
            equals=[(name, value) for name, value in properties],
            where=where,
            matched=matched,
            at_most=at_most,
            # the filter alone, when its count can come from the value counts (publish.gpkg.counts)
            selection=None
            if filtered is None or q
            else value_selection(filtered.node, self._table),
            sortby=[(s["property"], s.get("order") == "-") for s in sortby],
            offset=int(offset),
            limit=0 if resulttype == "hits" else int(limit),
            columns=self._columns(select_properties),
            geometry=not skip_geometry,
        )
        page = self._run(lambda: run_query(self._gpkg, self._table, query))
        features = self._features(page, crs_transform_spec)
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": page.matched,
            "numberReturned": len(features),
        }

    def get(self, identifier: Any, crs_transform_spec: Any = None, **kwargs: Any) -> dict[str, Any]:
        """One feature by its id (the table's integer key)."""
        try:
            fid = int(str(identifier))
        except ValueError:
            raise ProviderItemNotFoundError(user_msg="identifier not found") from None
        if not -(2**63) <= fid < 2**63:  # beyond any SQLite integer key
            raise ProviderItemNotFoundError(user_msg="identifier not found")
        page = self._run(lambda: get_feature(self._gpkg, self._table, fid, self._columns(())))
        if not page.ids:
            raise ProviderItemNotFoundError(user_msg="identifier not found")
        feature: dict[str, Any] = self._features(page, crs_transform_spec)[0]
        return feature

    # -- helpers -----------------------------------------------------------------------------

    def _condition(
        self, value: Filter | None, q: str | None
    ) -> tuple[Condition | None, int | None, int | None]:
        """The SQL condition of the request's CQL2 filter and `q`, and how many rows it selects
        (exactly, at most) when the filter's translation found out
        (publish.ogc.where.filter_selection). A filter pygeoapi parsed itself (its own server,
        not ours) is already in the storage CRS."""
        try:
            if value is None:
                filtered, matched, at_most = None, None, None
            else:
                filtered, matched, at_most = filter_selection(self._gpkg, self._table, value)
            if not q:
                return filtered, matched, at_most
            searched = search_condition(self._table, q, self.title_field, self._code_field)
            return all_of(filtered, searched), None, at_most  # `q` selects fewer, never more
        except FilterError as exc:
            raise ProviderInvalidQueryError(user_msg=str(exc)) from exc
        except GeoPackageError as exc:
            log.error("%s", exc)
            raise ProviderQueryError(str(exc)) from exc

    def _columns(self, select_properties: Sequence[str]) -> list[str]:
        fields = list(self.fields)
        if select_properties:
            return [name for name in select_properties if name in self.fields]
        return fields

    def _run(self, call: Any) -> FeaturePage:
        try:
            page: FeaturePage = call()
        except QueryError as exc:
            raise ProviderInvalidQueryError(user_msg=str(exc)) from exc
        except GeoPackageError as exc:  # GeometryBlobError too
            log.error("%s", exc)
            raise ProviderQueryError(str(exc)) from exc
        return page

    def _features(self, page: FeaturePage, crs_transform_spec: Any) -> list[dict[str, Any]]:
        geometries: list[dict[str, Any] | None] = [None] * len(page.ids)
        if page.geometries is not None:
            geoms = page.geometries
            if crs_transform_spec is not None:
                geoms = transform(
                    geoms, crs_transform_spec.source_crs_wkt, crs_transform_spec.target_crs_wkt
                )
            encode = geojson_arrays if arrays_allowed() else to_geojson
            geometries = encode(geoms)
        return [
            {
                "type": "Feature",
                "id": fid,
                "geometry": geometry,
                "properties": dict(zip(page.columns, row, strict=True)),
            }
            for fid, row, geometry in zip(page.ids, page.rows, geometries, strict=True)
        ]
