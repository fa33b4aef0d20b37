"""A CQL2 filter as an SQL condition on a GeoPackage feature table: bound parameters only.

`filter_condition` walks pygeofilter's AST. Property names must be the table's published
columns (quoted from the table's own layout, never from the client); every literal is a bound
parameter; literals must have the property's type. Supported: comparisons, LIKE (CQL2's `%`,
`_` and `\\` escape, case-sensitive: SQLite's GLOB), IN, BETWEEN, IS NULL, AND/OR/NOT,
+ - * / on numbers, and the spatial predicates S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS,
S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS (and ECQL's BBOX) between the geometry and a WKT,
GeoJSON or BBOX literal.

A spatial predicate is decided exactly, as the bbox path of publish.ogc.query is: the R-tree gives
the features whose envelope meets the literal's (every predicate but S_DISJOINT implies that),
shapely tests them, and the predicate becomes `id IN (the ids that pass)`; S_DISJOINT is
`NOT IN` the ids that intersect. Counts and pages then come from one SQL condition and agree.
The ids a literal selects are kept with the GeoPackage (`GeoPackage.derived`: the file never
changes, and a release switch brings new files), so the pages of one spatial selection after the
first skip the R-tree, the candidates' geometries and the shapely test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import shapely
from pyproj import CRS

from publish.crs.names import CRS84_URI
from publish.gpkg.counts import ValueSelection
from publish.gpkg.geometry import from_blobs
from publish.gpkg.reader import GeoPackage, Table
from publish.gpkg.schema import quote as quote_column
from publish.ogc.cql import Filter, FilterError
from publish.ogc.geometry import transform

GEOMETRY_PROPERTY = "geometry"  # the name CQL2 gives the primary geometry
# SQLite's parser overflows near 100 nested parentheses, and refuses expression trees deeper
# than 1000 (a chain of n ORs is n deep).
MAX_DEPTH = 64  # nested operators
MAX_CONDITIONS = 500  # conditions in all
MAX_IN_VALUES = 1000
_SQLITE_INTEGER = (-(2**63), 2**63 - 1)
# The features a spatial predicate selects are kept with the GeoPackage (`GeoPackage.derived`),
# by table, test and literal, for literals of up to this many bytes of WKB: a client paging
# through a spatial selection sends the same literal with every page.
KEPT_LITERAL_BYTES = 8_192
KEPT_IDS = 5_000  # …selecting up to this many features: ≤ ~50 KB an entry, ~12 MB a GeoPackage


class Condition(NamedTuple):
    """An SQL condition on the table aliased `t`, and its parameters in order (what
    `GeoPackage.rows_in_box` takes as `where`)."""

    sql: str
    params: tuple[Any, ...] = ()


def _kind_of_column(schema: Any) -> str:
    kind = str(schema.get("type", "string"))
    return "number" if kind in ("integer", "number") else kind


def _kind_of_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (`%` any characters, `_` one, `\\` escapes) as an SQLite GLOB one."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)


@cache
def _spatial_tests() -> dict[type, tuple[str, Callable[..., Any]]]:
    from pygeofilter import ast

    return {
        ast.GeometryIntersects: ("S_INTERSECTS", shapely.intersects),
        ast.GeometryDisjoint: ("S_DISJOINT", shapely.intersects),  # negated below
        ast.GeometryWithin: ("S_WITHIN", shapely.within),
        ast.GeometryContains: ("S_CONTAINS", shapely.contains),
        ast.GeometryTouches: ("S_TOUCHES", shapely.touches),
        ast.GeometryCrosses: ("S_CROSSES", shapely.crosses),
        ast.GeometryOverlaps: ("S_OVERLAPS", shapely.overlaps),
        ast.GeometryEquals: ("S_EQUALS", shapely.equals),
    }


# A predicate with the literal first is the predicate with the geometry first, mirrored.
_MIRRORED = {"S_WITHIN": shapely.contains, "S_CONTAINS": shapely.within}
# The same test with its arguments swapped (the others are symmetric): the candidates are tested
# with the literal as the first argument, the one shapely uses prepared (GEOS's prepared
# predicates: ~65 µs rather than ~180 for 190 parcels against a hexagon; the same answers).
_CONVERSE = {shapely.within: shapely.contains, shapely.contains: shapely.within}


class FilterTranslator:
    """A filter's AST as one SQL condition with bound parameters on `table`, checked against its
    published properties. Spatial predicates are answered through `gpkg`'s R-tree and shapely; a
    subclass with no GeoPackage (publish.ogc.postgis_filter) overrides `_spatial`."""

    def __init__(self, gpkg: GeoPackage | None, table: Table, crs: str) -> None:
        self.gpkg = gpkg
        self.table = table
        self.crs = crs
        self.params: list[Any] = []
        self.depth = 0
        self.conditions = 0
        self.negations = 0  # NOTs around the condition being translated
        # how many rows the whole condition selects, when translating it told (a lone spatial
        # predicate: its id list)
        self.matched: int | None = None
        # at most how many rows it selects, when translating it told (a spatial predicate that
        # the whole condition ANDs with others: its id list)
        self.at_most: int | None = None
        self._top: type | None = None  # the type of the whole condition's node

    # -- conditions --------------------------------------------------------------------------

    def condition(self, node: Any) -> str:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise FilterError(
                f"filter has more than {MAX_CONDITIONS} conditions (IN takes a list of values)"
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
        try:
            return self._condition(node)
        finally:
            self.depth -= 1

    def _condition(self, node: Any) -> str:
        from pygeofilter import ast

        if self.depth == 1:
            self._top = type(node)
        if isinstance(node, ast.And | ast.Or):
            word = "AND" if isinstance(node, ast.And) else "OR"
            terms = [self.condition(term) for term in chain_terms(node)]
            return f"({f' {word} '.join(terms)})"
        if isinstance(node, ast.Not):
            self.negations += 1
            try:
                return f"(NOT {self.condition(node.sub_node)})"
            finally:
                self.negations -= 1
        if isinstance(node, ast.Include):
            return "0" if node.not_ else "1"
        if isinstance(node, ast.Comparison):
            lhs, rhs = self._pair(node.lhs, node.rhs, node.op.value)
            return f"({lhs} {node.op.value} {rhs})"
        if isinstance(node, ast.Like):
            return self._like(node)
        if isinstance(node, ast.Between):
            value, kind = self.expression(node.lhs)
            low = self._typed(node.low, kind, "BETWEEN")
            high = self._typed(node.high, kind, "BETWEEN")
            word = "NOT BETWEEN" if node.not_ else "BETWEEN"
            return f"({value} {word} {low} AND {high})"
        if isinstance(node, ast.In):
            return self._in(node)
        if isinstance(node, ast.IsNull):
            value, _kind = self.expression(node.lhs)
            return f"({value} IS {'NOT ' if node.not_ else ''}NULL)"
        if isinstance(node, ast.BBox):
            if node.crs is not None:
                raise FilterError("BBOX with its own CRS is not supported; use filter-crs")
            box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
            return self._spatial("S_INTERSECTS", shapely.intersects, node.lhs, box)
        tests = _spatial_tests()
        if type(node) in tests:
            name, test = tests[type(node)]
            return self._spatial_node(name, test, node.lhs, node.rhs)
        if isinstance(node, ast.TemporalPredicate):
            raise FilterError("temporal predicates are not supported: the layers have no time")
        if isinstance(node, ast.Function):
            raise FilterError(f"function {node.name}() is not supported in filters")
        name = type(node).__name__
        raise FilterError(f"{name} is not supported in filters here")

    def _like(self, node: Any) -> str:
        value, kind = self.expression(node.lhs)
        if kind != "string":
            raise FilterError(f"LIKE needs a text property (got a {kind})")
        if not isinstance(node.pattern, str):
            raise FilterError("LIKE needs a text pattern")
        _check_text(node.pattern)
        self.params.append(_glob(node.pattern))
        if node.nocase:
            return f"({'NOT ' if node.not_ else ''}lower({value}) GLOB lower(?))"
        return f"({value} {'NOT ' if node.not_ else ''}GLOB ?)"

    def _in(self, node: Any) -> str:
        value, kind = self.expression(node.lhs)
        options = list(node.sub_nodes)
        if not options:
            raise FilterError("IN needs at least one value")
        if len(options) > MAX_IN_VALUES:
            raise FilterError(f"IN takes at most {MAX_IN_VALUES} values")
        marks = ", ".join(self._typed(option, kind, "IN") for option in options)
        return f"({value} {'NOT IN' if node.not_ else 'IN'} ({marks}))"

    # -- scalar expressions ------------------------------------------------------------------

    def expression(self, node: Any) -> tuple[str, str]:
        """SQL of a scalar expression and its kind (string, number, boolean)."""
        from pygeofilter import ast

        if isinstance(node, ast.Attribute):
            return self._property(node.name)
        if isinstance(node, ast.Arithmetic):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterError(f"filter is nested more than {MAX_DEPTH} levels deep")
            try:
                lhs = self._number(node.lhs)
                rhs = self._number(node.rhs)
            finally:
                self.depth -= 1
            if node.op.value == "/":  # CQL2 divides as real numbers; SQLite's integers would not
                return f"({lhs} * 1.0 / {rhs})", "number"
            return f"({lhs} {node.op.value} {rhs})", "number"
        if isinstance(node, ast.Function):
            raise FilterError(f"function {node.name}() is not supported in filters")
        kind = _kind_of_value(node)
        if kind is None:
            raise FilterError(f"{type(node).__name__} values are not supported here")
        return self._bind(node), kind

    def _number(self, node: Any) -> str:
        sql, kind = self.expression(node)
        if kind != "number":
            raise FilterError(f"arithmetic needs numbers (got a {kind})")
        return sql

    def _property(self, name: str) -> tuple[str, str]:
        schema = self.table.columns.get(name)
        if schema is None:
            raise FilterError(
                f"{self.table.name} has no queryable property {name!r} "
                f"(queryables: {', '.join(self.table.columns)})"
            )
        return f"t.{quote_column(name)}", _kind_of_column(schema)

    def _bind(self, value: Any) -> str:
        if isinstance(value, str):
            _check_text(value)
        whole = isinstance(value, int) and not isinstance(value, bool)
        if whole and not _SQLITE_INTEGER[0] <= value <= _SQLITE_INTEGER[1]:
            raise FilterError(f"the number {value} is out of range")
        if isinstance(value, float) and not math.isfinite(value):
            raise FilterError("numbers must be finite")
        self.params.append(value)
        return "?"

    def _typed(self, node: Any, kind: str, where: str) -> str:
        sql, got = self.expression(node)
        if got != kind:
            raise FilterError(f"{where} compares a {kind} with a {got}")
        return sql

    def _pair(self, lhs: Any, rhs: Any, op: str) -> tuple[str, str]:
        left, left_kind = self.expression(lhs)
        right, right_kind = self.expression(rhs)
        if left_kind != right_kind:
            raise FilterError(
                f"{_described(lhs)} {op} {_described(rhs)}: "
                f"a {left_kind} cannot be compared with a {right_kind}"
            )
        return left, right

    # -- spatial predicates ------------------------------------------------------------------

    def _is_geometry(self, node: Any) -> bool:
        from pygeofilter import ast

        return isinstance(node, ast.Attribute) and node.name in (
            GEOMETRY_PROPERTY,
            self.table.geometry,
        )

    def _spatial_node(self, name: str, test: Callable[..., Any], lhs: Any, rhs: Any) -> str:
        if self._is_geometry(lhs):
            return self._spatial(name, test, lhs, self._literal(rhs, name))
        if self._is_geometry(rhs):
            return self._spatial(name, _MIRRORED.get(name, test), rhs, self._literal(lhs, name))
        raise FilterError(f"{name} needs the property {GEOMETRY_PROPERTY!r} as one argument")

    def _literal(self, node: Any, name: str) -> Any:
        from pygeofilter import values

        if isinstance(node, values.Envelope):
            geometry = shapely.box(node.x1, node.x2, node.y1, node.y2)  # minx miny maxx maxy
        elif isinstance(node, values.Geometry):
            try:
                geometry = shapely.from_geojson(json.dumps(node.geometry))
            except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
                raise FilterError(f"{name}: the geometry literal cannot be read: {exc}") from None
        else:
            raise FilterError(f"{name} needs a geometry literal (WKT, GeoJSON or BBOX)")
        return self._in_storage_crs(geometry, name)

    def _in_storage_crs(self, geometry: Any, name: str) -> Any:
        if self.crs != CRS84_URI:
            source, target = _wkt(self.crs), _wkt(CRS84_URI)
            geometry = transform(np.array([geometry], dtype=object), source, target)[0]
        coords = shapely.get_coordinates(geometry)
        if not np.isfinite(coords).all():
            raise FilterError(f"{name}: the geometry literal lies outside its CRS's area")
        if not shapely.is_valid(geometry):
            reason = shapely.is_valid_reason(geometry)
            raise FilterError(f"{name}: the geometry literal is not valid: {reason}")
        return geometry

    def _spatial(self, name: str, test: Callable[..., Any], lhs: Any, literal: Any) -> str:
        if self.table.rtree is None:
            raise FilterError(f"{self.table.name} has no spatial index")
        count, ids = 0, "[]"
        if not shapely.is_empty(literal):
            assert self.gpkg is not None, "spatial predicates on a GeoPackage need it"
            literal_first = _CONVERSE.get(test, test)
            wkb = shapely.to_wkb(literal)
            if len(wkb) > KEPT_LITERAL_BYTES:
                count, ids = self._meeting(literal_first, literal)
            else:
                count, ids = self.gpkg.derived(
                    ("ids meeting", self.table.name, literal_first.__name__, wkb),
                    lambda: self._meeting(literal_first, literal),
                    keep=lambda found: found[0] <= KEPT_IDS,
                )
        self.params.append(ids)
        if self.depth == 1 and name != "S_DISJOINT":  # the whole filter: these ids, no others
            self.matched = count
        elif self.depth == 2 and self._top is _and_type() and name != "S_DISJOINT":
            self.at_most = count if self.at_most is None else min(self.at_most, count)
        inside = f"t.{quote_column(self.table.id_column)} IN (SELECT value FROM json_each(?))"
        if name != "S_DISJOINT" and not self.negations:
            # Under no NOT, unknown (a feature without geometry) selects as false does: the
            # plain id list, which SQLite answers by looking the ids up, not by a scan.
            return f"({inside})"
        if name == "S_DISJOINT":  # the complement of the features that intersect
            inside = f"NOT ({inside})"
        # A feature without geometry is neither in nor out: unknown, as NULL is in SQL, so
        # that NOT S_INTERSECTS and S_DISJOINT select the same features.
        return (
            f"(CASE WHEN t.{quote_column(self.table.geometry)} IS NULL THEN NULL ELSE {inside} END)"
        )

    def _meeting(self, literal_first: Callable[..., Any], literal: Any) -> tuple[int, str]:
        """How many features `literal_first(literal, geometry)` holds for, among those whose
        R-tree envelope meets the literal's, and their ids as a JSON array."""
        assert self.gpkg is not None
        box = shapely.bounds(literal)
        rows = self.gpkg.rows_in_box(self.table.name, [], tuple(box), order=None)
        if not rows:
            return 0, "[]"
        shapely.prepare(literal)
        passed = literal_first(literal, from_blobs([row[1] for row in rows]))
        ids = [int(row[0]) for row, hit in zip(rows, passed, strict=True) if hit]
        return len(ids), json.dumps(ids)


@cache
def _and_type() -> type:
    from pygeofilter import ast

    return ast.And


def _check_text(value: str) -> None:
    """Text holds no NUL character: no layer's text does, and PostgreSQL (a PostGIS deployment,
    publish.ogc.postgis_features) cannot compare with it."""
    if "\x00" in value:
        raise FilterError("text values cannot hold the NUL character")


def chain_terms(node: Any) -> list[Any]:
    """The terms of a chain of one combination (a AND b AND c), in order: one flat SQL list
    rather than parentheses nested as deep as the chain is long (SQLite's parser stack is not)."""
    kind = type(node)
    terms: list[Any] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is kind:
            stack += [item.rhs, item.lhs]
        else:
            terms.append(item)
    return terms


def _described(node: Any) -> str:
    from pygeofilter import ast

    if isinstance(node, ast.Attribute):
        return str(node.name)
    text = repr(node)
    return text if len(text) <= 40 else text[:40] + "…"


@cache
def _wkt(uri: str) -> str:
    return str(CRS.from_user_input(uri).to_wkt())


def filter_condition(gpkg: GeoPackage, table: Table, value: Filter) -> Condition:
    """The SQL condition selecting the rows of `table` that `value` selects; FilterError when
    the filter names a property the table does not publish, mixes types or uses what is not
    supported."""
    return filter_selection(gpkg, table, value)[0]


class Selection(NamedTuple):
    """A filter's condition and what its translation found out about how many rows it selects
    (None: nothing): `matched`, exactly (a filter that is one spatial predicate: the features it
    found with the R-tree and shapely, each an existing row); `at_most`, a bound (a spatial
    predicate ANDed with other conditions)."""

    condition: Condition
    matched: int | None = None
    at_most: int | None = None


def filter_selection(gpkg: GeoPackage, table: Table, value: Filter) -> Selection:
    """`filter_condition`, and what its translation found out about its count."""
    translator = FilterTranslator(gpkg, table, value.crs)
    sql = translator.condition(value.node)
    condition = Condition(sql, tuple(translator.params))
    return Selection(condition, translator.matched, translator.at_most)


def value_selection(node: Any, table: Table) -> ValueSelection | None:
    """The filter as a ValueSelection when it is one: a text property `=` a text, `IN` a list
    of texts, or `LIKE` a plain prefix followed by `%` (case-sensitive, not negated)."""
    from pygeofilter import ast

    def column(item: Any) -> str | None:
        known = isinstance(item, ast.Attribute) and item.name in table.columns
        if known and _kind_of_column(table.columns[item.name]) == "string":
            return str(item.name)
        return None

    if isinstance(node, ast.Equal):
        for lhs, rhs in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
            if (name := column(lhs)) is not None and isinstance(rhs, str):
                return ValueSelection(name, (rhs,))
    texts = isinstance(node, ast.In) and all(isinstance(v, str) for v in node.sub_nodes)
    if texts and not node.not_ and (name := column(node.lhs)) is not None:
        return ValueSelection(name, tuple(node.sub_nodes))
    if isinstance(node, ast.Like) and not (node.not_ or node.nocase):
        name, pattern = column(node.lhs), node.pattern
        if name is not None and isinstance(pattern, str) and pattern.endswith("%"):
            prefix = pattern[:-1]
            if not any(c in prefix for c in "%_\\"):
                return ValueSelection(name, prefix=prefix)
    return None


class Search(NamedTuple):
    """What `q` looks for: each term in the text columns `names`, and the codes whose national
    class name holds a term in the column `codes`."""

    names: list[str]
    codes: str | None
    terms: list[tuple[str, list[str]]]  # (term, the codes whose name holds it)


def search_terms(table: Table, q: str, name_field: str | None, code_field: str | None) -> Search:
    """`q`, free-text search, split into its comma-separated terms, each with the land-use
    codes whose name holds it. FilterError when the table has neither field to search."""
    from publish.standards import land_use_classes

    names = [c for c in (name_field,) if c and c in table.columns]
    codes = code_field if code_field and code_field in table.columns else None
    if not names and codes is None:
        raise FilterError(f"free-text search (q) is not available on {table.name}")
    terms = [term.strip() for term in q.split(",") if term.strip()]
    if not terms:
        raise FilterError("q needs at least one search term")
    for term in terms:
        _check_text(term)
    classes = land_use_classes().values() if codes is not None else ()
    return Search(
        names, codes, [(term, [c.code for c in classes if term in c.name]) for term in terms]
    )


def search_condition(
    table: Table, q: str, name_field: str | None, code_field: str | None
) -> Condition:
    """`q`, free-text search: any of its comma-separated terms found in the name field, or in
    the national classification's name of the code field's value (q=水田 finds code 0101).
    FilterError when the table has neither field to search."""
    search = search_terms(table, q, name_field, code_field)
    clauses: list[str] = []
    params: list[Any] = []
    for term, matching in search.terms:
        for name in search.names:
            clauses.append(f"instr(t.{quote_column(name)}, ?) > 0")
            params.append(term)
        if search.codes is not None and matching:
            clauses.append(f"t.{quote_column(search.codes)} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(matching, ensure_ascii=False))
    return Condition(f"({' OR '.join(clauses) or '0'})", tuple(params))


def all_of(*conditions: Condition | None) -> Condition | None:
    """The conditions joined with AND (None when there are none)."""
    given = [c for c in conditions if c is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]
    sql = " AND ".join(c.sql for c in given)
    return Condition(f"({sql})", tuple(p for c in given for p in c.params))
