"""Target rules and the status of a value against a target (ok / warning / breach).

With `band` the warning band (a fraction: 0.02 = 2 %, the model's `band`, a target may set its
own), a value `v` and a target `t`:

* ``at_least t``: breach if v < t; warning if t <= v < t * (1 + band); else ok.
  (v = t * (1 + band), the band's far edge, is ok; v = t is warning.)
* ``at_most t``: breach if v > t; warning if t * (1 - band) < v <= t; else ok.
  (v = t * (1 - band) is ok; v = t is warning.)
* ``between [lo, hi]``: breach if v < lo or v > hi; warning if lo <= v < lo * (1 + band) or
  hi * (1 - band) < v <= hi (within the band of either edge, relative to that edge); else ok.

So, with a band above 0, a value exactly on a target is a warning and the band's far edge is
ok (with band 0 there is no warning). A value of None (not computable) has no status.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BREACH", "OK", "RULES", "STATUSES", "WARNING", "Target", "status_of"]

RULES = ("at_least", "at_most", "between")
OK, WARNING, BREACH = "ok", "warning", "breach"
STATUSES = (OK, WARNING, BREACH)


@dataclass(frozen=True)
class Target:
    """One target of an indicator: for a scope unit (city; county or township by code) and year."""

    scope: str
    code: str | None  # None for the city
    year: int
    rule: str
    target: float | tuple[float, float]
    band: float

    def status(self, value: float | None) -> str | None:
        return status_of(value, self.rule, self.target, self.band)

    def document(self, value: float | None) -> dict[str, object]:
        """The target as monitoring/<aud>.json lists it, with the value's status."""
        target = list(self.target) if isinstance(self.target, tuple) else self.target
        return {
            "year": self.year,
            "rule": self.rule,
            "target": target,
            "band": self.band,
            "status": self.status(value),
        }


def _at_least(value: float, target: float, band: float) -> str:
    if value < target:
        return BREACH
    return WARNING if value < target * (1 + band) else OK


def _at_most(value: float, target: float, band: float) -> str:
    if value > target:
        return BREACH
    return WARNING if value > target * (1 - band) else OK


def status_of(
    value: float | None, rule: str, target: float | tuple[float, float], band: float
) -> str | None:
    """The status of `value` against `target` under `rule` (see the module docstring)."""
    if value is None:
        return None
    if rule == "at_least" and not isinstance(target, tuple):
        return _at_least(value, target, band)
    if rule == "at_most" and not isinstance(target, tuple):
        return _at_most(value, target, band)
    if rule == "between" and isinstance(target, tuple):
        low, high = target
        if value < low or value > high:
            return BREACH
        near = _at_least(value, low, band) == WARNING or _at_most(value, high, band) == WARNING
        return WARNING if near else OK
    raise ValueError(f"rule {rule!r} does not fit target {target!r}")
