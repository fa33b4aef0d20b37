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


_VOID = {"img", "br", "meta", "link", "hr", "input"}


class FindingsList(HTMLParser):
    """Collects the cards of section#findings (article.finding): per card, the text of each
    part by its class without the `finding-` prefix (head, severity, kind, layer, feature,
    field, area, location, message), its `img` and `a` attributes; the tags seen; the lang."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, Any]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.lang: str | None = None
        self._stack: list[tuple[str, str | None]] = []  # (tag, part it opens)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "article" and "finding" in classes:
            self.cards.append({"class": classes, "img": None, "a": None})
        part = next((c.removeprefix("finding-") for c in classes if c.startswith("finding-")), None)
        if self.cards and tag in ("img", "a"):
            self.cards[-1][tag] = attributes
        if tag not in _VOID:
            self._stack.append((tag, part))
            if part is not None and self.cards:
                self.cards[-1].setdefault(part, "")

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.cards:
            return
        for _, part in self._stack:  # every open part holds the text (head holds kind's)
            if part is not None:
                self.cards[-1][part] = self.cards[-1].get(part, "") + data


def parse_html(path: Path) -> FindingsList:
    parser = FindingsList()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def check_html_lists_review(path: Path, review: Review) -> FindingsList:
    """review.html has one card per finding, each with its kind, layer, feature and messages;
    it loads nothing from elsewhere (images are data: URIs, links stay on the staff viewer)."""
    page = parse_html(path)
    assert page.lang == "zh-CN"
    assert len(page.cards) == len(review.findings)
    remaining = list(page.cards)
    for finding in review.findings:
        for card in remaining:
            if (
                finding.kind in card["kind"].split()
                and card["layer"].split()[-1] == finding.layer  # "<titles> <id>"
                and card["feature"].startswith(finding.feature or "")
                and finding.message in card["message"]
                and finding.message_zh in card["message"]
            ):
                remaining.remove(card)
                break
        else:
            raise AssertionError(f"review.html does not list {finding}")
    for tag, attributes in page.tags:  # self-contained: nothing loaded from elsewhere
        assert tag not in ("script", "link", "iframe")
        if tag == "img":
            assert (attributes.get("src") or "").startswith("data:image/png;base64,")
            assert attributes.get("alt")
        elif tag == "a":
            assert (attributes.get("href") or "").startswith("/internal/#map=")
        else:
            assert not any(k in ("src", "href") for k in attributes), (tag, attributes)
    return page
