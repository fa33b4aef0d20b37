"""The formula vocabulary: what parses into what, and what is refused (never evaluated)."""

from __future__ import annotations

import pytest

from publish.indicators.formulas import (
    Area,
    Count,
    FormulaError,
    Overlap,
    Quotient,
    Selection,
    Value,
    Where,
    formula_layers,
    formula_values,
    is_additive,
    parse_formula,
)


def test_the_vocabulary() -> None:
    assert parse_formula("area(stbhhx)") == Area(Selection("stbhhx"))
    assert parse_formula('count("cun", XZQDM=["430802", "430811"])') == Count(
        Selection("cun", (Where("XZQDM", ("430802", "430811")),))
    )
    farmland = Selection("dltb", (Where(None, ("01",)),))
    assert parse_formula('area(dltb, code="01")') == Area(farmland)
    overlap = parse_formula('overlap(select(dltb, code="01"), yjjbnt)')
    assert overlap == Overlap(farmland, Selection("yjjbnt"))
    share = parse_formula('share(area(dltb, code="03"), area(xzq_xian))')
    assert isinstance(share, Quotient) and share.kind == "share"
    ratio = parse_formula("ratio(area(czkfbj), value(population))")
    assert ratio == Quotient("ratio", Area(Selection("czkfbj")), Value("population"))
    assert formula_layers(share) == ("dltb", "xzq_xian")
    assert formula_values(ratio) == ("population",)
    assert [is_additive(f) for f in (overlap, share, ratio, Value("x"))] == [
        True,
        False,
        False,
        False,
    ]
    assert Where(None, ("07",)).prefix and not Where("XZQDM", ("1",)).prefix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must be a non-empty string"),
        ("area(", "is not a formula"),
        ("__import__('os').system('true')", "expected a call of one of"),
        ("eval('1')", "unknown function 'eval'"),
        ("area(stbhhx).real", "expected a call"),
        ("area(stbhhx) + area(yjjbnt)", "expected a call"),
        ("area(stbhhx, yjjbnt)", "area() takes 1 argument(s), got 2"),
        ("area(1)", "area(): expected a name, got '1'"),
        ("area(dltb, code=7)", "expected a string or a list of strings"),
        ("area(dltb, code=[])", "expected a string or a list of strings"),
        ("area(dltb, **x)", "** is not allowed"),
        ("area(dltb, code='01', code='03')", "keyword 'code' given twice"),
        ("share(area(a))", "share() takes 2 argument(s), got 1"),
        ("share(a, b)", "expected a call"),
        ("overlap(area(a), b)", "overlap() takes layer ids or select(...), not area()"),
        ("select(dltb)", "select() is only an argument of overlap()"),
        ("value(population, x=1)", "value() takes no keywords"),
        ("(lambda: 1)()", "expected a call of one of"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert message in str(caught.value)
