"""Real clients: GDAL's WMS driver reads a map in EPSG:4490 (WMS 1.3.0, latitude first), and
OWSLib's WebMapService / WebMapTileService read the capabilities and a map or tile."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from owslib.wms import WebMapService
from owslib.wmts import WebMapTileService

from tests.wms.helpers import Probes, box_around, geodetic_tile, image, near, pixel_of, project

SIZE = 256


def test_gdal_reads_a_cgcs2000_map(wms_server: str, probes: Probes, tmp_path: Path) -> None:
    """GDAL 3.6 writes a WMS 1.3.0 EPSG:4490 bbox longitude first unless told the CRS's axis
    order (BBoxOrder yxYX): with it, the map lands where the data is."""
    place = probes.land_use
    west, south, east, north = box_around("EPSG:4490", place.lon, place.lat, 800)
    description = tmp_path / "ydyh.xml"
    description.write_text(
        f"""<GDAL_WMS>
  <Service name="WMS">
    <Version>1.3.0</Version>
    <ServerUrl>{wms_server}/wms?</ServerUrl>
    <Layers>ydyh</Layers>
    <CRS>EPSG:4490</CRS>
    <ImageFormat>image/png</ImageFormat>
    <Transparent>TRUE</Transparent>
    <BBoxOrder>yxYX</BBoxOrder>
  </Service>
  <DataWindow>
    <UpperLeftX>{west!r}</UpperLeftX><UpperLeftY>{north!r}</UpperLeftY>
    <LowerRightX>{east!r}</LowerRightX><LowerRightY>{south!r}</LowerRightY>
    <SizeX>{SIZE}</SizeX><SizeY>{SIZE}</SizeY>
  </DataWindow>
  <BandsCount>4</BandsCount>
  <BlockSizeX>{SIZE}</BlockSizeX><BlockSizeY>{SIZE}</BlockSizeY>
</GDAL_WMS>""",
        encoding="utf-8",
    )
    out = tmp_path / "ydyh.png"
    run = subprocess.run(
        ["gdal_translate", "-q", "-of", "PNG", str(description), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    info = subprocess.run(
        ["gdalinfo", str(description)], capture_output=True, text=True, timeout=120
    )
    assert "4490" in info.stdout
    img = image(out.read_bytes())
    px, py = pixel_of((west, south, east, north), (SIZE, SIZE), place.lon, place.lat)
    assert near(img, px, py, place.colour, radius=1), img.getpixel((int(px), int(py)))


@pytest.mark.parametrize("version", ["1.1.1", "1.3.0"])
def test_owslib_web_map_service(wms_server: str, probes: Probes, version: str) -> None:
    wms = WebMapService(f"{wms_server}/wms", version=version, timeout=60)
    assert "plan" in wms.contents and "ydyh" in wms.contents
    assert "spxm" not in wms.contents
    assert "EPSG:4490" in wms["ydyh"].crsOptions
    place = probes.land_use
    bbox = box_around("EPSG:3857", place.lon, place.lat, 800)
    answer = wms.getmap(
        layers=["ydyh"],
        styles=[""],
        srs="EPSG:3857",
        bbox=bbox,
        size=(SIZE, SIZE),
        format="image/png",
        transparent=True,
    )
    img = image(answer.read())
    px, py = pixel_of(bbox, (SIZE, SIZE), *project("EPSG:3857", place.lon, place.lat))
    assert near(img, px, py, place.colour, radius=1)


def test_owslib_web_map_tile_service(wms_server: str, probes: Probes) -> None:
    wmts = WebMapTileService(f"{wms_server}/wmts/1.0.0/WMTSCapabilities.xml", timeout=60)
    assert {"webmercator", "cgcs2000"} <= set(wmts.tilematrixsets)
    assert "ydyh" in wmts.contents and "spxm" not in wmts.contents
    place = probes.land_use
    col, row, px, py = geodetic_tile(place.lon, place.lat, 14)
    tile = wmts.gettile(
        layer="ydyh",
        tilematrixset="cgcs2000",
        tilematrix="14",
        row=row,
        column=col,
        format="image/png",
    )
    assert near(image(tile.read()), px, py, place.colour, radius=1)
