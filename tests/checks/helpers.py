"""Small hand-made layers for the check tests: built in EPSG:4546 metres, handed over in 4326."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from publish.catalog import LayerSpec
from publish.checks.findings import Review

# a point in the sample city, in EPSG:4546 (about 110.48 E, 29.13 N)
X0, Y0 = 450_000.0, 3_222_000.0


def spec(
    layer_id: str = "test",
    role: str = "red_line",
    fields: tuple[str, ...] = ("BSM", "MJ"),
    **extra: Any,
) -> LayerSpec:
    return LayerSpec(
        id=layer_id,
        title_zh="测试图层",
        title_en="Test layer",
        source=Path("/nonexistent/test.gpkg"),
        access="public",
        role=role,
        fields=fields,
        **extra,
    )


def box(x: float, y: float, w: float, h: float | None = None) -> shapely.Polygon:
    """A w × h rectangle at (x, y) metres from the origin point."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def frame_4546(geoms: list[Any], **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(dict(columns), geometry=gpd.GeoSeries(geoms), crs="EPSG:4546")


def frame_lonlat(geoms: list[Any], **columns: Any) -> gpd.GeoDataFrame:
    """A frame in EPSG:4326 of geometries given in EPSG:4546 metres."""
    return frame_4546(geoms, **columns).to_crs("EPSG:4326")


def shifted(wkt: str) -> shapely.Geometry:
    """A WKT in metres from the origin point."""
    return shapely.transform(shapely.from_wkt(wkt), lambda xy: xy + np.array([X0, Y0]))


class FindingsTable(HTMLParser):
    """Collects the rows of table#findings (cell texts), the tags seen and the page's lang."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.lang: str | None = None
        self._in_table = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "table" and attributes.get("id") == "findings":
            self._in_table = True
        elif self._in_table and tag == "tr" and "finding" in (attributes.get("class") or ""):
            self.rows.append([])
        elif self._in_table and tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_html(path: Path) -> FindingsTable:
    parser = FindingsTable()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_html_lists_review(path: Path, review: Review) -> FindingsTable:
    """review.html has one row per finding, each with its kind, layer, feature and messages."""
    page = parse_html(path)
    assert page.lang == "zh-CN"
    assert len(page.rows) == len(review.findings)
    remaining = list(page.rows)
    for finding in review.findings:
        for row in remaining:
            if (
                row[1] == finding.kind
                and row[2].split()[-1] == finding.layer  # "<title> <id>"
                and row[3].startswith(finding.feature or "")
                and finding.message in row[8]
                and finding.message_zh in row[8]
            ):
                remaining.remove(row)
                break
        else:
            raise AssertionError(f"review.html does not list {finding}")
    for tag, attributes in page.tags:  # self-contained: nothing loaded from elsewhere
        assert tag not in ("script", "link", "img", "iframe")
        assert not any(k in ("src", "href") for k in attributes), (tag, attributes)
    return page
