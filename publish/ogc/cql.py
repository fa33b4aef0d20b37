"""A CQL2 filter of an items request (OGC API – Features Part 3): parsed, in its filter CRS.

`parse_filter` reads the `filter`, `filter-lang` and `filter-crs` parameters: cql2-text (the
default) or cql2-json through pygeofilter's parsers, a parse error named with its position; the
filter CRS must be one the collection offers. The result is a `Filter`: pygeofilter's AST and the
CRS its geometry literals are in (publish.ogc.where checks it against a table and makes SQL).

pygeoapi creates the feature provider itself and passes it only what it parsed, with its ECQL
parser; the items route parses instead (publish.ogc.routes) and hands the `Filter` to the
provider through `request_filter` for the duration of the request.

Parsed filters are kept (`_parsed`: the last `FILTERS_KEPT` texts of up to `KEPT_FILTER_CHARS`
characters, by language): a client paging through a selection (GDAL's OAPIF driver, QGIS) sends
the same filter with every page, and a parse costs ~100 µs (lark, in Python). Nothing changes a
parsed AST afterwards (publish.ogc.where reads it; publish.ogc.postgis_filter makes new nodes),
so requests in any thread share it; it depends only on the text, never on a release.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from publish.crs.names import CRS84_URI
from publish.errors import PublishError

CQL2_TEXT = "cql2-text"
CQL2_JSON = "cql2-json"
FILTER_LANGS = (CQL2_TEXT, CQL2_JSON)
# The draft's name for CQL2 text, which pygeoapi's own API and GDAL's OAPIF driver (to 3.7) send.
FILTER_LANG_ALIASES = {"cql-text": CQL2_TEXT}
MAX_FILTER_CHARS = 100_000  # a long polygon literal fits; a runaway request does not
_SHOWN = 80  # characters of bad input repeated in a message
FILTERS_KEPT = 512  # parsed filters kept (`_parsed`)
# longer filters are parsed on every request; a kept one and its AST take up to ~40 KB (~20 MB in all)
KEPT_FILTER_CHARS = 4096


class FilterError(PublishError):
    """A filter that cannot be parsed, or that does not fit the collection (unknown property,
    wrong type, unsupported operator). The message names the problem; it is a 400."""


@dataclass(frozen=True)
class Filter:
    """A parsed filter: pygeofilter's AST, its geometry literals in `crs` (an OGC URI)."""

    node: Any
    crs: str = CRS84_URI


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _text_error(exc: Exception) -> FilterError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

    if isinstance(exc, UnexpectedToken):
        where = f"line {exc.line}, column {exc.column}"
        if exc.token.type == "$END":
            return FilterError(f"filter (cql2-text): the filter ends too early at {where}")
        return FilterError(f"filter (cql2-text): unexpected {_shown(str(exc.token))} at {where}")
    if isinstance(exc, UnexpectedCharacters):
        return FilterError(
            f"filter (cql2-text): unexpected character {exc.char!r} at line {exc.line}, "
            f"column {exc.column}"
        )
    if isinstance(exc, UnexpectedEOF):
        return FilterError("filter (cql2-text): unexpected end of the filter")
    if isinstance(exc, VisitError):
        return FilterError(f"filter (cql2-text): {exc.orig_exc}")
    return FilterError(f"filter (cql2-text) cannot be parsed: {exc}")


# CQL2's boolean grammar (booleanExpression = booleanTerm {OR booleanTerm}; booleanTerm =
# booleanFactor {AND booleanFactor}; booleanFactor = [NOT] booleanPrimary). pygeofilter 0.4's
# cql2-text grammar gives AND and OR one precedence (it reads `a OR b AND c` as `(a OR b) AND c`)
# and takes NOT before one predicate only (it refuses `NOT (a OR b)`); these rules replace its.
_BOOLEAN_RULES = """
?condition: condition_and
          | condition "OR"i condition_and                                   -> or_

?condition_and: condition_1
              | condition_and "AND"i condition_1                            -> and_

?condition_1: predicate
            | "NOT"i condition_1                                            -> not_
            | "(" condition ")"

"""
_THEIR_BOOLEAN_RULES = re.compile(r"\?condition:.*?(?=\?predicate:)", re.DOTALL)


@cache
def _text_parser() -> Any:
    """pygeofilter's cql2-text parser (its grammar, its transformer) with CQL2's boolean rules."""
    from lark import Lark
    from pygeofilter.parsers import cql2_text
    from pygeofilter.parsers.cql2_text.parser import CQLTransformer

    path = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar, found = _THEIR_BOOLEAN_RULES.subn(
        lambda _match: _BOOLEAN_RULES, path.read_text("utf-8"), count=1
    )
    if found != 1:  # another pygeofilter: fail loudly rather than parse by other rules
        raise RuntimeError(f"{path}: no ?condition rules to replace")
    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=CQLTransformer(),
        import_paths=[str(path.parent.parent)],  # its `%import .wkt…`: pygeofilter/parsers
    )


def _parse_text(text: str) -> Any:
    from lark.exceptions import LarkError

    try:
        return _text_parser().parse(text)
    except LarkError as exc:
        raise _text_error(exc) from None


def _cql2_between(node: Any) -> Any:
    """CQL2 1.0 writes BETWEEN as `args: [value, low, high]`; pygeofilter's parser reads the
    draft's `[value, [low, high]]`."""
    if isinstance(node, list):
        return [_cql2_between(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _cql2_between(value) for key, value in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        out["args"] = [args[0], [args[1], args[2]]]
    return out


def _parse_json(text: str) -> Any:
    from pygeofilter.parsers.cql2_json import parse

    try:
        document = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError: message with line, column and char
        raise FilterError(f"filter (cql2-json) is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FilterError("filter (cql2-json) must be a JSON object with `op` and `args`")
    try:
        return parse(_cql2_between(document))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise FilterError(f"filter (cql2-json) is not a CQL2 expression: {exc}") from None


def parse_filter(
    text: str, lang: str | None = None, crs: str | None = None, offered: Sequence[str] = ()
) -> Filter:
    """The filter `text` in `lang` (cql2-text when None; cql-text is its alias), its literals
    in `crs` (CRS84 when None), which must be one of `offered` (the collection's CRSs).
    FilterError otherwise."""
    from pygeofilter import ast

    language = (lang or CQL2_TEXT).strip()
    language = FILTER_LANG_ALIASES.get(language, language)
    if language not in FILTER_LANGS:
        raise FilterError(
            f"filter-lang must be one of {', '.join(FILTER_LANGS)} (got {_shown(language)})"
        )
    crs = (crs or CRS84_URI).strip()
    if crs not in {CRS84_URI, *offered}:
        raise FilterError(
            f"filter-crs {_shown(crs)} is not offered; use one of "
            f"{', '.join(dict.fromkeys([CRS84_URI, *offered]))}"
        )
    if not text.strip():
        raise FilterError("filter is empty")
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"filter is longer than {MAX_FILTER_CHARS} characters")
    node = _parsed(text, language) if len(text) <= KEPT_FILTER_CHARS else _parse(text, language)
    if not isinstance(node, ast.Node):
        raise FilterError(f"filter ({language}) must be a condition, not a value")
    return Filter(node, crs)


def _parse(text: str, language: str) -> Any:
    try:
        return _parse_text(text) if language == CQL2_TEXT else _parse_json(text)
    except RecursionError:
        raise FilterError("filter is nested too deeply") from None


# `_parse`, its results kept (errors are not: each is raised again from a fresh parse)
_parsed = lru_cache(maxsize=FILTERS_KEPT)(_parse)


_REQUEST_FILTER: ContextVar[Filter | None] = ContextVar("request_filter", default=None)


def request_filter() -> Filter | None:
    """The filter of the items request being answered in this context (None: no filter)."""
    return _REQUEST_FILTER.get()


@contextmanager
def filter_scope(value: Filter) -> Iterator[None]:
    """`request_filter()` gives `value` inside the block."""
    token = _REQUEST_FILTER.set(value)
    try:
        yield
    finally:
        _REQUEST_FILTER.reset(token)
