"""Field names of the planning database standard (BSM, YSDM, XZQDM, ...) in Chinese and English,
shipped as data (fields.csv). A catalog layer's own `field_titles` win over these, and a field
neither names is shown by its code (publish.catalog.LayerSpec.field_title)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def standard_field_titles() -> dict[str, tuple[str, str]]:
    """Field code → (Chinese, English), e.g. "MJ" → ("面积", "Area")."""
    text = resources.files(__package__).joinpath("fields.csv").read_text(encoding="utf-8")
    return {row["code"]: (row["zh"], row["en"]) for row in csv.DictReader(text.splitlines())}
