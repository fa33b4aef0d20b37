"""The pygeoapi process: metadata, execution, and bad input as a 400 through pygeoapi's manager."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pygeoapi.process.base import ProcessorExecuteError
from pygeoapi.process.manager.base import get_manager
from pygeoapi.util import JobStatus

from publish.domain import DEFAULT_CRS
from publish.sitecheck.process import SiteCheckProcessor, process_metadata

PROCESS_METADATA = process_metadata(DEFAULT_CRS)

NAME = "publish.sitecheck.process.SiteCheckProcessor"
POINT = {"type": "Point", "coordinates": [110.48, 29.129]}


def _definition(release: Path, audience: str = "public", **extra: Any) -> dict[str, Any]:
    return {
        "name": NAME,
        "gpkg": str(release / "features" / f"{audience}.gpkg"),
        "catalog": str(release / "catalog.yml"),
        **extra,
    }


def test_metadata() -> None:
    assert PROCESS_METADATA["id"] == "site-check"
    assert PROCESS_METADATA["title"]["zh"] and PROCESS_METADATA["title"]["en"]
    assert set(PROCESS_METADATA["inputs"]) == {
        "geometry",
        "crs",
        "buffer_m",
        "intended_use",
        "surroundings_m",
    }
    json.dumps(PROCESS_METADATA)


def test_execute(release: Path) -> None:
    processor = SiteCheckProcessor(_definition(release))
    mimetype, report = processor.execute({"geometry": POINT, "buffer_m": 100})
    assert mimetype == "application/json"
    assert report["site"]["area_m2"] == pytest.approx(31_415.9, rel=5e-3)
    assert report["verdict"] in ("prohibited", "review", "conforming")


def test_bad_input_is_a_400_error(release: Path) -> None:
    processor = SiteCheckProcessor(_definition(release, max_area_m2=1000))
    with pytest.raises(ProcessorExecuteError) as info:
        processor.execute({"geometry": POINT, "buffer_m": 100})
    assert info.value.http_status_code == 400
    assert "above the limit of 0.001 km²" in info.value.message


def test_through_pygeoapi_manager(release: Path, tmp_path: Path) -> None:
    config = {
        "server": {"manager": {"name": "Dummy", "connection": None, "output_dir": str(tmp_path)}},
        "resources": {
            "site-check": {"type": "process", "processor": _definition(release, "internal")}
        },
    }
    manager = get_manager(config)
    _job, mime, outputs, status, _headers = manager.execute_process(
        "site-check", {"geometry": POINT, "buffer_m": 100}
    )
    assert status == JobStatus.successful
    assert mime == "application/json"
    assert "spxm" in outputs["layers"]
    # pygeoapi 0.21 turns a failed synchronous job into HTTP 400 (api/processes.py).
    _job, _mime, outputs, status, _headers = manager.execute_process(
        "site-check", {"geometry": {"type": "LineString", "coordinates": [[110, 29], [111, 29]]}}
    )
    assert status == JobStatus.failed
    assert "wrong type 'LineString'" in outputs["description"]


def test_stores_of_releases_switched_away_from_are_dropped(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publish.sitecheck import process

    monkeypatch.setattr(process, "STORES_KEPT", 1)
    monkeypatch.setattr(process, "_STORES", process.OrderedDict())
    catalog = str(release / "catalog.yml")
    public = process.shared_store(str(release / "features" / "public.gpkg"), catalog)
    assert process.shared_store(str(release / "features" / "public.gpkg"), catalog) is public
    internal = process.shared_store(str(release / "features" / "internal.gpkg"), catalog)
    assert list(process._STORES.values()) == [internal]
    assert process.shared_store(str(release / "features" / "public.gpkg"), catalog) is not public


def test_the_description_names_the_city_crs() -> None:
    """The release catalog's working CRS is offered as an input CRS and named for the areas."""
    crs = process_metadata("EPSG:4547")
    assert crs["inputs"]["crs"]["schema"]["enum"] == [
        "CRS84",
        "EPSG:4490",
        "EPSG:4547",
        "EPSG:3857",
    ]
    assert "EPSG:4547" in crs["inputs"]["crs"]["description"]
    assert "4546" not in json.dumps(crs)
    assert "EPSG:4547" in crs["description"]["en"] and "EPSG:4547" in crs["description"]["zh"]
    assert "4546" not in json.dumps(crs)
