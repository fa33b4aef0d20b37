"""Target statuses at the exact edges of the rules and their warning bands."""

from __future__ import annotations

import pytest

from publish.indicators.rules import BREACH, OK, WARNING, Target, status_of


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (99.99, BREACH),  # below the target
        (100.0, WARNING),  # on the target: the band's near edge
        (101.99, WARNING),  # inside the band
        (102.0, OK),  # the band's far edge, t × (1 + band)
        (150.0, OK),
    ],
)
def test_at_least(value: float, expected: str) -> None:
    assert status_of(value, "at_least", 100.0, 0.02) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.01, BREACH),
        (100.0, WARNING),
        (98.01, WARNING),
        (98.0, OK),  # t × (1 − band)
        (10.0, OK),
    ],
)
def test_at_most(value: float, expected: str) -> None:
    assert status_of(value, "at_most", 100.0, 0.02) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (49.99, BREACH),
        (50.0, WARNING),  # the low edge
        (50.99, WARNING),
        (51.0, OK),  # lo × (1 + band)
        (75.0, OK),
        (98.0, OK),  # hi × (1 − band)
        (98.01, WARNING),
        (100.0, WARNING),  # the high edge
        (100.01, BREACH),
    ],
)
def test_between(value: float, expected: str) -> None:
    assert status_of(value, "between", (50.0, 100.0), 0.02) == expected


def test_band_of_its_own_and_no_value() -> None:
    assert status_of(104.0, "at_least", 100.0, 0.05) == WARNING
    assert status_of(105.0, "at_least", 100.0, 0.05) == OK
    assert status_of(100.0, "at_least", 100.0, 0.0) == OK  # no band: on the target is ok
    assert status_of(None, "at_most", 100.0, 0.02) is None
    target = Target("county", "430802", 2035, "between", (1.0, 2.0), 0.02)
    assert target.document(0.5) == {
        "year": 2035, "rule": "between", "target": [1.0, 2.0], "band": 0.02, "status": BREACH,
    }  # fmt: skip


def test_a_rule_that_does_not_fit_its_target() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        status_of(1.0, "between", 2.0, 0.02)
