"""pygeoapi's PostgreSQL provider with our CQL2 filter and `q` (deployments on PostGIS).

Configured as publish.ogc.postgis writes it (`name: publish.ogc.postgis_features.PostGISProvider`,
the stock provider's `data`, `table`, `id_field`, `geom_field`, plus `title_field` and, on
land-use layers, `code_field`). The items route parses the filter (publish.ogc.cql) as it does for
the GeoPackage provider; here it is checked and rewritten (publish.ogc.postgis_filter) and handed
to the stock provider, which translates it with pygeofilter's SQLAlchemy backend. `q` searches the
name field and the land-use class names as publish.ogc.where does (publish.ogc.where.search_terms),
case-sensitively. A filter the database refuses is a 400 that names no SQL.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from geoalchemy2.functions import ST_Intersects, ST_MakeEnvelope
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.sql import PostgreSQLProvider
from pygeoapi.util import get_crs_from_uri
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.sqlalchemy.evaluate import SQLAlchemyFilterEvaluator
from sqlalchemy import Numeric, String, false, func, true

from publish.gpkg.reader import Table
from publish.ogc.cql import Filter, FilterError, request_filter
from publish.ogc.postgis_filter import postgis_filter
from publish.ogc.where import search_terms

log = logging.getLogger("publish.ogc")


class _Evaluator(SQLAlchemyFilterEvaluator):
    """pygeofilter's SQLAlchemy translation, comparing text byte by byte as SQLite does
    (collation C, not the database's), dividing as SQLite does (by zero: NULL, not an error),
    and with INCLUDE / EXCLUDE, which it lacks."""

    @handle(ast.Attribute)
    def attribute(self, node: Any) -> Any:
        column = super().attribute(node)
        return column.collate("C") if isinstance(column.type, String) else column

    @handle(ast.Div)
    def divide(self, node: Any, lhs: Any, rhs: Any) -> Any:
        return lhs / func.nullif(rhs, 0, type_=Numeric)

    @handle(ast.Include)
    def include(self, node: Any) -> Any:
        return false() if node.not_ else true()


class _Prepared:
    """The SQLAlchemy condition of a request's filter and `q`, passed as the stock provider's
    `filterq` (its `_get_cql_filters` gives it back as it is)."""

    def __init__(self, condition: Any) -> None:
        self.condition = condition


class PostGISProvider(PostgreSQLProvider):
    """Features of one PostGIS table (EPSG:4326), filtered as the GeoPackage provider filters."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self._code_field: str | None = provider_def.get("code_field")
        # The id is not a property (as in the GeoPackage provider): not queryable, not filtered.
        self._fields.pop(self.id_field, None)

    def __repr__(self) -> str:
        return f"<PostGISProvider {self.table}>"

    def _get_bbox_filter(self, bbox: list[float]) -> Any:
        """The stock provider's bbox test, with the storage CRS's EPSG code looked up once per
        process (pyproj's `to_epsg`, ~half of a bbox request's CPU, ran on every request)."""
        if not bbox:
            return True
        envelope = ST_MakeEnvelope(*bbox, _srid(self.storage_crs) or 4326)
        return ST_Intersects(envelope, getattr(self.table_model, self.geom))

    def query(self, *args: Any, filterq: Any = None, q: str | None = None, **kwargs: Any) -> Any:
        """The stock query, with the request's CQL2 filter and `q` as one SQLAlchemy condition."""
        from sqlalchemy.exc import SQLAlchemyError

        prepared = _Prepared(self._condition(filterq, q))
        try:
            return super().query(*args, filterq=prepared, q=None, **kwargs)
        except SQLAlchemyError as exc:  # e.g. numeric overflow: a 400 that names no SQL
            log.warning("%s: a filter the database refused: %s", self.table, exc)
            raise ProviderInvalidQueryError(
                user_msg="the filter cannot be evaluated on this collection"
            ) from None

    def _get_cql_filters(self, filterq: Any) -> Any:
        if isinstance(filterq, _Prepared):
            return filterq.condition
        return super()._get_cql_filters(filterq)

    def _published(self) -> Table:
        wanted = set(self.properties or ())
        columns = {
            name: schema for name, schema in self.fields.items() if not wanted or name in wanted
        }
        return Table(str(self.table), str(self.id_field), str(self.geom), None, columns)

    def _condition(self, filterq: Any, q: str | None) -> Any:
        """The filter (a request's, or one pygeoapi parsed, in CRS84) and `q` as one condition."""
        from sqlalchemy import and_, or_

        value = request_filter() if filterq is None else Filter(filterq)
        table = self._published()
        model = self.table_model
        conditions = []
        try:
            if value is not None:
                node = postgis_filter(table.name, table.columns, table.geometry, value)
                mapping = {c.name: getattr(model, c.name) for c in model.__table__.columns}
                try:
                    conditions.append(_Evaluator(mapping, None).evaluate(node))
                except NotImplementedError as exc:  # what pygeofilter's backend cannot write
                    raise FilterError(f"the filter cannot be answered here: {exc}") from None
            if q:
                search = search_terms(table, q, self.title_field, self._code_field)
                clauses = []
                for term, codes in search.terms:
                    clauses += [
                        getattr(model, name).contains(term, autoescape=True)
                        for name in search.names
                    ]
                    if search.codes is not None and codes:
                        clauses.append(getattr(model, search.codes).in_(codes))
                conditions.append(or_(*clauses) if clauses else ~true())
        except FilterError as exc:
            raise ProviderInvalidQueryError(user_msg=str(exc)) from exc
        return and_(true(), *conditions)


@functools.lru_cache(maxsize=16)
def _srid(crs_uri: str) -> int | None:
    """The EPSG code of a CRS URI (a provider's storage CRS)."""
    code: int | None = get_crs_from_uri(crs_uri).to_epsg()
    return code
