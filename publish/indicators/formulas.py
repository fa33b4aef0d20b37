"""The formula vocabulary of the indicator model, and its parser.

A formula is one expression of a small vocabulary, parsed with Python's `ast` (mode "eval") and
checked node by node against a whitelist; it is never evaluated as Python::

    area(LAYER, where...)        area (m²) of the union of the layer's selected features
    count(LAYER, where...)       number of selected features
    overlap(A, B)                area (m²) of A inside B; A and B are a layer id or
                                 select(LAYER, where...)
    share(X, Y), ratio(X, Y)     X / Y of two sub-formulas (share: a part of a whole)
    value(NAME)                  a figure of the model's values CSV (scope unit, model year)

`where` keywords select features: ``code="07"`` or ``code=["07", "08"]`` match the layer's
catalog `code_field` by prefix; ``FIELD="v"`` or ``FIELD=["a", "b"]`` match a published field's
exact values. Layer and figure names may be bare names or strings.

A formula is *additive* when it is an area, a count or an overlap: its county values sum to the
city's. share, ratio and value are not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Area",
    "Count",
    "Formula",
    "FormulaError",
    "Overlap",
    "Quotient",
    "Selection",
    "Value",
    "Where",
    "formula_layers",
    "formula_selections",
    "formula_values",
    "is_additive",
    "parse_formula",
]

CODE_KEY = "code"


class FormulaError(ValueError):
    """A formula outside the vocabulary; the model turns it into a ModelError naming its file."""


@dataclass(frozen=True)
class Where:
    """One `where` keyword: ``field`` None is the layer's code field, matched by prefix."""

    field: str | None
    values: tuple[str, ...]

    @property
    def prefix(self) -> bool:
        return self.field is None


@dataclass(frozen=True)
class Selection:
    """A layer's features matching every `where`."""

    layer: str
    where: tuple[Where, ...] = ()


@dataclass(frozen=True)
class Area:
    selection: Selection


@dataclass(frozen=True)
class Count:
    selection: Selection


@dataclass(frozen=True)
class Overlap:
    inner: Selection
    outer: Selection


@dataclass(frozen=True)
class Quotient:
    """share(x, y) or ratio(x, y): x / y."""

    kind: str  # "share" | "ratio"
    numerator: Formula
    denominator: Formula


@dataclass(frozen=True)
class Value:
    name: str


Formula = Area | Count | Overlap | Quotient | Value

_FUNCTIONS = ("area", "count", "overlap", "share", "ratio", "value", "select")


def parse_formula(text: str) -> Formula:
    """The formula `text` as a tree of the dataclasses above; FormulaError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("must be a non-empty string")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"is not a formula ({exc.msg})") from None
    return _formula(tree.body)


def _call(node: ast.expr) -> tuple[str, ast.Call]:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise FormulaError(
            f"expected a call of one of {', '.join(_FUNCTIONS)}, got {ast.unparse(node)!r}"
        )
    name = node.func.id
    if name not in _FUNCTIONS:
        raise FormulaError(f"unknown function {name!r} (allowed: {', '.join(_FUNCTIONS)})")
    return name, node


def _arity(name: str, call: ast.Call, count: int, keywords: bool = False) -> None:
    if len(call.args) != count:
        raise FormulaError(f"{name}() takes {count} argument(s), got {len(call.args)}")
    if call.keywords and not keywords:
        raise FormulaError(f"{name}() takes no keywords")


def _formula(node: ast.expr) -> Formula:
    name, call = _call(node)
    if name in ("area", "count"):
        selection = _selection(name, call)
        return Area(selection) if name == "area" else Count(selection)
    if name == "overlap":
        _arity(name, call, 2)
        return Overlap(_operand(call.args[0]), _operand(call.args[1]))
    if name in ("share", "ratio"):
        _arity(name, call, 2)
        return Quotient(name, _formula(call.args[0]), _formula(call.args[1]))
    if name == "value":
        _arity(name, call, 1)
        return Value(_name(call.args[0], "value()"))
    raise FormulaError("select() is only an argument of overlap()")


def _operand(node: ast.expr) -> Selection:
    """An overlap() argument: a layer id or select(layer, where...)."""
    if isinstance(node, ast.Call):
        name, call = _call(node)
        if name != "select":
            raise FormulaError(f"overlap() takes layer ids or select(...), not {name}()")
        return _selection(name, call)
    return Selection(_name(node, "overlap()"))


def _selection(name: str, call: ast.Call) -> Selection:
    _arity(name, call, 1, keywords=True)
    layer = _name(call.args[0], f"{name}()")
    where = []
    seen = set()
    for keyword in call.keywords:
        if keyword.arg is None:
            raise FormulaError(f"{name}(): ** is not allowed")
        if keyword.arg in seen:
            raise FormulaError(f"{name}(): keyword {keyword.arg!r} given twice")
        seen.add(keyword.arg)
        field = None if keyword.arg == CODE_KEY else keyword.arg
        where.append(Where(field, _strings(keyword.value, f"{name}({keyword.arg}=...)")))
    return Selection(layer, tuple(where))


def _name(node: ast.expr, where: str) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        return node.value
    raise FormulaError(f"{where}: expected a name, got {ast.unparse(node)!r}")


def _strings(node: ast.expr, where: str) -> tuple[str, ...]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.List | ast.Tuple) and node.elts:
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(values) == len(node.elts) and all(isinstance(v, str) for v in values):
            return tuple(str(v) for v in values)
    raise FormulaError(
        f"{where}: expected a string or a list of strings, got {ast.unparse(node)!r}"
    )


def formula_selections(formula: Formula) -> Iterator[Selection]:
    """Every selection the formula reads, depth first."""
    if isinstance(formula, Area | Count):
        yield formula.selection
    elif isinstance(formula, Overlap):
        yield formula.inner
        yield formula.outer
    elif isinstance(formula, Quotient):
        yield from formula_selections(formula.numerator)
        yield from formula_selections(formula.denominator)


def formula_layers(formula: Formula) -> tuple[str, ...]:
    """The layer ids the formula reads, in order of first use."""
    return tuple(dict.fromkeys(s.layer for s in formula_selections(formula)))


def formula_values(formula: Formula) -> tuple[str, ...]:
    """The names of the figures value() reads."""
    if isinstance(formula, Value):
        return (formula.name,)
    if isinstance(formula, Quotient):
        return (*formula_values(formula.numerator), *formula_values(formula.denominator))
    return ()


def is_additive(formula: Formula) -> bool:
    """Whether county values sum to the city's: areas, counts and overlaps."""
    return isinstance(formula, Area | Count | Overlap)
