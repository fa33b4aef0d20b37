"""Figures that do not come from layers: the indicator model's values CSV (`values: values.csv`,
relative to the model), columns name,scope,code,year,value — e.g. the population of a county in
2025 — read by the formula `value(name)` for the scope unit and the model's year.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.errors import ModelError

__all__ = ["SCOPES", "VALUE_COLUMNS", "Values", "load_values"]

SCOPES = ("city", "county", "township")
VALUE_COLUMNS = ("name", "scope", "code", "year", "value")


@dataclass(frozen=True)
class Values:
    """The figures of the values CSV: (name, scope, code, year) → value."""

    path: Path | None
    figures: Mapping[tuple[str, str, str, int], float]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(key[0] for key in self.figures)

    def get(self, name: str, scope: str, code: str, year: int) -> float | None:
        return self.figures.get((name, scope, code, year))


def load_values(value: Any, path: Path) -> Values:
    """The values CSV the model at `path` names (`values:`), read and checked; no figures when it
    names none. ModelError naming the file and line."""
    if value is None:
        return Values(None, {})
    if not isinstance(value, str) or not value:
        raise ModelError(f"{path}: key 'values' must name a CSV file (got {value!r})")
    csv_path = (path.parent / value).resolve()
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ModelError(f"{path}: key 'values': cannot read {csv_path} ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    if missing := [c for c in VALUE_COLUMNS if c not in (reader.fieldnames or ())]:
        raise ModelError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    figures: dict[tuple[str, str, str, int], float] = {}
    for line, row in enumerate(reader, start=2):
        where = f"{csv_path}: line {line}"
        if row["scope"] not in SCOPES:
            raise ModelError(
                f"{where}: column 'scope' must be one of {', '.join(SCOPES)} (got {row['scope']!r})"
            )
        try:
            key = (row["name"].strip(), row["scope"], row["code"].strip(), int(row["year"]))
            figures[key] = float(row["value"])
        except (TypeError, ValueError):
            raise ModelError(f"{where}: columns 'year' and 'value' must be numbers") from None
        if not key[0]:
            raise ModelError(f"{where}: column 'name' is empty")
    return Values(csv_path, figures)
