"""Each finding locatable at a glance: the refused defective build's report shows every planted
defect with its feature's name, a map image that shows it and a link into the staff viewer;
beyond IMAGES_PER_KIND findings of a kind the rest are listed without images."""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from PIL import Image

from publish.catalog import load_catalog
from publish.checks.findings import Review, make_finding
from publish.review.inputs import ReportInputs
from publish.review.maps import HEIGHT, MIN_RADIUS_M, WIDTH, fit_view
from publish.review.places import IMAGES_PER_KIND, place_findings
from tests.checks.helpers import box, check_html_lists_review, frame_lonlat

KIND_OF_DEFECT = {"duplicate_bsm": "duplicate_id"}
PAPER = (0xF7, 0xF5, 0xEF)  # styles/basemap.yml background


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
        return np.asarray(image.convert("RGB")).astype(int)


def _highlight(pixels: np.ndarray) -> np.ndarray:
    """Where the image is the highlight's cyan (#00FFFF, antialiasing aside)."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (r < 90) & (g > 200) & (b > 200)


def _centre(pixels: np.ndarray, half: int) -> np.ndarray:
    cy, cx = HEIGHT // 2, WIDTH // 2
    return pixels[cy - half : cy + half, cx - half : cx + half]


def _link_view(href: str) -> tuple[float, float, float, list[str]]:
    """(zoom, lat, lon, layers) of a staff-viewer link /internal/#map=z/lat/lon&layers=…"""
    parts = urlsplit(href)
    assert parts.scheme == "" and parts.netloc == "" and parts.path == "/internal/"
    params = parse_qs(parts.fragment)
    zoom, lat, lon = (float(v) for v in params["map"][0].split("/"))
    return zoom, lat, lon, params["layers"][0].split(",")


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_574)


def test_each_planted_defect_has_its_map_name_and_link(
    refused_report: Path, defective_sample_dir: Path
) -> None:
    doc = json.loads((refused_report / "review.json").read_text(encoding="utf-8"))
    review = Review.from_dict(doc)
    assert len(doc["places"]) == len(review.findings)
    page = check_html_lists_review(refused_report / "review.html", review)
    catalog = load_catalog(defective_sample_dir / "layers.yml")
    defects = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    assert len(defects) == 5
    for defect in defects:
        kind = KIND_OF_DEFECT.get(defect["kind"], defect["kind"])
        at, finding = next(
            (i, f)
            for i, f in enumerate(review.findings)
            if (f.kind, f.layer, f.feature) == (kind, defect["layer"], str(defect["bsm"]))
        )
        assert finding.lonlat is not None
        spec = catalog.layer(defect["layer"])
        place = doc["places"][at]
        assert place["layer_title"] == {"zh": spec.title_zh, "en": spec.title_en}
        assert place["image"] is True and place["link"]
        card = next(
            c
            for c in page.cards
            if kind in c["kind"].split()
            and c["layer"].split()[-1] == defect["layer"]
            and c["feature"].startswith(str(defect["bsm"]))
            and finding.message in c["message"]
        )
        assert spec.title_zh in card["layer"] and spec.title_en in card["layer"]
        # the name, as an independent reading of the source has it
        if spec.name_field is not None:
            source = gpd.read_file(spec.source, layer=spec.layer)
            name = source.loc[source[spec.id_field] == defect["bsm"], spec.name_field].iloc[0]
            assert place["name"] == name and name in card["feature"]
        # the link: the staff viewer centred on the finding, its layer shown
        zoom, lat, lon, layers = _link_view(card["a"]["href"])
        assert card["a"]["href"] == place["link"]
        assert _metres((lon, lat), finding.lonlat) < 3 and 8 <= zoom <= 18
        assert layers[0] == defect["layer"]
        if finding.other_layer:
            assert finding.other_layer in layers
        # the image: the feature drawn around the centre, highlighted
        src = card["img"]["src"]
        assert str(defect["bsm"]) in card["img"]["alt"]
        pixels = _pixels(base64.b64decode(src.removeprefix("data:image/png;base64,")))
        centre = _centre(pixels, 30)
        drawn = np.any(np.abs(centre - np.array(PAPER)) > 12, axis=-1)
        assert drawn.mean() > 0.5, (defect, drawn.mean())
        assert _highlight(_centre(pixels, 12)).any(), defect
        assert _highlight(pixels).sum() > 60, defect


def test_report_names_no_folder_of_the_build_machine(
    refused_report: Path, defective_sample_dir: Path
) -> None:
    html = (refused_report / "review.html").read_text(encoding="utf-8")
    text = html + (refused_report / "review.json").read_text(encoding="utf-8")
    for folder in (defective_sample_dir, refused_report.parent.parent):
        assert str(folder) not in text and str(folder.resolve()) not in text
    assert "file://" not in html and "onemap-glyphs" not in html


@dataclass(frozen=True)
class _Table:
    features_path: Path


def _red_line_table(folder: Path, count: int) -> Path:
    """A red-line feature table (as publish.features.store writes one) of `count` squares
    500 m apart, BSM 1..count, named 红线<n>."""
    squares = [box(600.0 * (i % 10), 600.0 * (i // 10), 200.0) for i in range(count)]
    frame = frame_lonlat(
        squares,
        BSM=np.arange(1, count + 1),
        HXMC=[f"红线{i + 1}" for i in range(count)],
    )
    path = folder / "features.gpkg"
    pyogrio.write_dataframe(frame, path, layer="stbhhx", driver="GPKG")
    return path


def test_beyond_images_per_kind_findings_are_listed_without_an_image(
    tmp_path: Path, defective_sample_dir: Path
) -> None:
    count = IMAGES_PER_KIND + 1
    path = _red_line_table(tmp_path, count)
    table = gpd.read_file(path)
    review = Review()
    for bsm, point in zip(table["BSM"], table.geometry.representative_point(), strict=True):
        review.add(
            make_finding(
                "empty_geometry",
                "stbhhx",
                f"layer stbhhx, feature {bsm}: test",
                f"图层 stbhhx 要素 {bsm}：测试",
                feature=str(bsm),
                lonlat=(round(point.x, 6), round(point.y, 6)),
            )
        )
    review.add(make_finding("missing_field", "stbhhx", "no field", "缺少字段", field="HXMC"))
    inputs = ReportInputs(
        catalog=load_catalog(defective_sample_dir / "layers.yml"),
        catalog_source=defective_sample_dir / "layers.yml",
        layers={"stbhhx": _Table(path)},  # type: ignore[dict-item]
        when=datetime(2026, 12, 5, tzinfo=UTC),
    )
    places = place_findings(review, inputs)
    assert len(places) == count + 1
    assert [p.image is not None for p in places] == [True] * IMAGES_PER_KIND + [False, False]
    assert [p.name for p in places[:count]] == [f"红线{i}" for i in range(1, count + 1)]
    assert places[IMAGES_PER_KIND].link is not None  # located: linked, not drawn
    assert places[-1].link is None and places[-1].name is None  # no place: neither
    assert places[0].layer_title_zh == "生态保护红线"
    # each image centred on its own square: the highlight is at the centre of every one
    for place in places[:IMAGES_PER_KIND]:
        assert place.image is not None
        assert _highlight(_centre(_pixels(place.image), 12)).any()
    assert len({p.image for p in places[:IMAGES_PER_KIND]}) > 1


@pytest.mark.parametrize("size", [10.0, 2_000.0, 30_000.0])
def test_a_view_fits_the_feature_around_the_finding(size: float) -> None:
    (square,) = frame_lonlat([box(0, 0, size)]).geometry
    inside = square.representative_point()
    view = fit_view((inside.x, inside.y), square.bounds)
    assert (view.lon, view.lat) == (inside.x, inside.y)
    west, south, east, north = view.window()
    assert west < square.bounds[0] and south < square.bounds[1]
    assert east > square.bounds[2] and north > square.bounds[3]
    height_m = (north - south) * 110_574
    if size > 2 * MIN_RADIUS_M:  # no farther out than needed: the square fills a third of it
        assert (square.bounds[3] - square.bounds[1]) / (north - south) > 0.33
    else:  # a tiny feature: shown with MIN_RADIUS_M around it, not at MAX_ZOOM
        assert 2 * MIN_RADIUS_M < height_m < 8 * MIN_RADIUS_M


def test_a_feature_without_an_id_is_found_by_its_row(
    tmp_path: Path, defective_sample_dir: Path
) -> None:
    squares = [box(0, 0, 300.0), box(1_000.0, 0, 300.0)]
    frame = frame_lonlat(squares, HXMC=["甲", "乙"])  # no BSM: findings say "#<row>"
    path = tmp_path / "features.gpkg"
    pyogrio.write_dataframe(frame, path, layer="stbhhx", driver="GPKG")
    point = frame.geometry.iloc[1].representative_point()
    review = Review()
    review.add(
        make_finding(
            "empty_geometry",
            "stbhhx",
            "layer stbhhx, feature #2: test",
            "图层 stbhhx 要素 #2：测试",
            feature="#2",
            lonlat=(round(point.x, 6), round(point.y, 6)),
        )
    )
    inputs = ReportInputs(
        catalog=load_catalog(defective_sample_dir / "layers.yml"),
        catalog_source=defective_sample_dir / "layers.yml",
        layers={"stbhhx": _Table(path)},  # type: ignore[dict-item]
        when=datetime(2026, 12, 5, tzinfo=UTC),
    )
    (place,) = place_findings(review, inputs)
    assert place.name == "乙" and place.image is not None
    assert _highlight(_centre(_pixels(place.image), 12)).any()
