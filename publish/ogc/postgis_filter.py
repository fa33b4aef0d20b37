"""A CQL2 filter made ready for pygeoapi's PostgreSQL provider (pygeofilter's SQLAlchemy backend).

`postgis_filter` checks the filter exactly as the GeoPackage path does (publish.ogc.where: the
table's published properties only, literals of the property's type, the same limits and the same
messages), then rewrites pygeofilter's AST so that the SQLAlchemy backend answers what the
GeoPackage provider answers:
- geometry literals (WKT, GeoJSON, ENVELOPE, BBOX) in CRS84, as publish.ogc.where makes them from
  the filter CRS, and the primary geometry first (S_WITHIN(literal, geometry) is S_CONTAINS);
- `geometry` named as the table's geometry column;
- a LIKE pattern's lone trailing `\\` taken literally (PostgreSQL refuses it);
- AND/OR chains as balanced trees, so that 500 conditions do not recurse 500 levels deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely

from publish.gpkg.reader import Table
from publish.ogc.cql import Filter, FilterError
from publish.ogc.where import GEOMETRY_PROPERTY, FilterTranslator, chain_terms


class _Checker(FilterTranslator):
    """publish.ogc.where's translation, kept for its checks; spatial literals are recorded (in
    CRS84) by the node they belong to instead of being looked up in a GeoPackage."""

    def __init__(self, table: Table, crs: str) -> None:
        super().__init__(None, table, crs)  # no GeoPackage is read
        self.literals: dict[int, Any] = {}
        self._node: Any = None

    def _condition(self, node: Any) -> str:
        self._node = node
        return super()._condition(node)

    def _spatial(self, name: str, test: Any, lhs: Any, literal: Any) -> str:
        self.literals[id(self._node)] = literal
        return "1"


def _mirrored(kind: type) -> type:
    from pygeofilter import ast

    return {ast.GeometryWithin: ast.GeometryContains, ast.GeometryContains: ast.GeometryWithin}.get(
        kind, kind
    )


def _balanced(kind: type, terms: list[Any]) -> Any:
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return kind(_balanced(kind, terms[:half]), _balanced(kind, terms[half:]))


def _like_pattern(pattern: str) -> str:
    """CQL2's LIKE pattern for PostgreSQL: the same `%`, `_` and `\\` escape; a lone trailing
    backslash is a backslash (as publish.ogc.where reads it)."""
    escaped = False
    for char in pattern:
        escaped = not escaped and char == "\\"
    return pattern + "\\" if escaped else pattern


class _Rewriter:
    def __init__(self, checker: _Checker, geometry_column: str) -> None:
        self.checker = checker
        self.geometry_column = geometry_column

    def node(self, node: Any) -> Any:
        import dataclasses

        from pygeofilter import ast, values

        if id(node) in self.checker.literals:
            return self._spatial(node)
        if isinstance(node, ast.And | ast.Or):
            terms = [self.node(term) for term in chain_terms(node)]
            return _balanced(type(node), terms)
        if isinstance(node, ast.Attribute) and node.name == GEOMETRY_PROPERTY:
            return ast.Attribute(self.geometry_column)
        if isinstance(node, ast.Not):  # Not and Attribute are no dataclasses
            return ast.Not(self.node(node.sub_node))
        if isinstance(node, list):
            return [self.node(item) for item in node]
        if isinstance(node, ast.Node) and dataclasses.is_dataclass(node):
            item: Any = node
            changes = {f.name: self.node(getattr(item, f.name)) for f in dataclasses.fields(item)}
            if isinstance(node, ast.Like):
                changes["pattern"] = _like_pattern(changes["pattern"])
            return dataclasses.replace(item, **changes)
        if isinstance(node, values.Geometry | values.Envelope):  # not a spatial argument
            raise FilterError("a geometry literal is only allowed in a spatial predicate")
        return node

    def _spatial(self, node: Any) -> Any:
        from pygeofilter import ast, values

        literal = values.Geometry(shapely.geometry.mapping(self.checker.literals[id(node)]))
        geometry = ast.Attribute(self.geometry_column)
        if isinstance(node, ast.BBox):
            return ast.GeometryIntersects(geometry, literal)
        kind = type(node) if self.checker._is_geometry(node.lhs) else _mirrored(type(node))
        return kind(geometry, literal)


def postgis_filter(
    name: str, columns: Mapping[str, Mapping[str, Any]], geometry_column: str, value: Filter
) -> Any:
    """pygeofilter's AST of `value` for table `name` (published `columns`, geometry in
    `geometry_column`, EPSG:4326), checked and rewritten as the module says; FilterError as the
    GeoPackage path raises it."""
    table = Table(name, "", geometry_column, None, columns)
    checker = _Checker(table, value.crs)
    checker.condition(value.node)
    return _Rewriter(checker, geometry_column).node(value.node)
