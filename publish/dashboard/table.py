"""The indicator table of a monitoring document — one row per result — and its CSV and XLSX
files (the dashboard's downloads).

A row reads one target of its result: the one for the year asked for, else the one its status
stands for (the first target year at or after the data's year, else the last). A `between`
target is written "lo–hi"; numbers stay numbers (the XLSX cells hold the JSON's values)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = (
    "indicator",
    "name_zh",
    "name_en",
    "unit",
    "kind",
    "scope",
    "code",
    "name",
    "value",
    "target_year",
    "rule",
    "target",
    "status",
    "previous",
    "delta",
)


def status_year(year: int | None, years: Sequence[int]) -> int | None:
    """The target year a status stands for: the first of `years` at or after `year`, else the
    last; None without targets."""
    if not years:
        return None
    ordered = sorted(years)
    if year is not None:
        for candidate in ordered:
            if candidate >= year:
                return candidate
    return ordered[-1]


def _target_text(target: Any) -> Any:
    if isinstance(target, list | tuple):
        return "–".join(str(v) for v in target)
    return target


def result_rows(monitoring: Mapping[str, Any], year: int | None = None) -> list[dict[str, Any]]:
    """The results as rows (keys: COLUMNS), in the document's order; with `year`, each row's
    target and status are that year's (empty where the result has no target for it)."""
    indicators = {item["id"]: item for item in monitoring.get("indicators") or []}
    names = {(s.get("scope"), s.get("code")): s.get("name") for s in monitoring.get("scopes") or []}
    rows = []
    for result in monitoring.get("results") or []:
        indicator = indicators.get(result.get("indicator"), {})
        targets = {t.get("year"): t for t in result.get("targets") or []}
        chosen = year if year is not None else status_year(monitoring.get("year"), list(targets))
        target = targets.get(chosen) or {}
        status = target.get("status") if year is not None else result.get("status")
        title = indicator.get("name") or {}
        rows.append(
            {
                "indicator": result.get("indicator"),
                "name_zh": title.get("zh"),
                "name_en": title.get("en"),
                "unit": indicator.get("unit"),
                "kind": indicator.get("kind"),
                "scope": result.get("scope"),
                "code": result.get("code"),
                "name": names.get((result.get("scope"), result.get("code"))),
                "value": result.get("value"),
                "target_year": chosen if target else None,
                "rule": target.get("rule"),
                "target": _target_text(target.get("target")),
                "status": status,
                "previous": result.get("previous"),
                "delta": result.get("delta"),
            }
        )
    return rows


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """UTF-8 CSV with a BOM (so that Excel reads the Chinese names), a header of COLUMNS."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in COLUMNS})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def rows_xlsx(rows: Sequence[Mapping[str, Any]], title: str = "indicators") -> bytes:
    """An XLSX workbook of one sheet: the header (COLUMNS), then a row per result."""
    from openpyxl import Workbook  # imported when a workbook is asked for

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(k) for k in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
