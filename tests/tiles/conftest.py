"""Fixtures for the tiles tests: one real tippecanoe run on three small layers, shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.tiles.inputs import LayerInput, write_layer
from publish.tiles.job import run_tippecanoe
from tests.tiles.frames import batches, parcels, places, roads


@pytest.fixture(scope="package")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, LayerInput]]:
    d = tmp_path_factory.mktemp("tiles")
    inputs = {
        "land_use": write_layer(
            batches(parcels(), 128),
            d / "land_use.geojsonl",
            "land_use",
            ["DLBM", "DLMC", "MJ", "GHYT"],
            minzoom=8,
            maxzoom=14,
            geometry="polygon",
            description="土地利用现状",
        ),
        "roads": write_layer(
            [roads()], d / "roads.geojsonl", "roads", ["NAME"], minzoom=10, maxzoom=13
        ),
        "places": write_layer(
            [places()], d / "places.geojsonl", "places", ["NAME", "RANK"], minzoom=12, maxzoom=14
        ),
    }
    out = d / "plan.pmtiles"
    run_tippecanoe(list(inputs.values()), out, "规划一张图", attribution="测试")
    return out, inputs
