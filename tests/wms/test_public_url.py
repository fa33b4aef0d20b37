"""With PUBLISH_PUBLIC_URL set, MapProxy's capabilities advertise it (scheme, host and path)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from publish.server.settings import Settings
from tests.server.helpers import make_client


def test_capabilities_use_the_public_url(full_release: Any, tmp_path: Path) -> None:
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    (tiles / "releases").symlink_to(full_release.path.parent)
    os.symlink(f"releases/{full_release.release_id}", tiles / "current")
    settings = Settings(tiles_dir=tiles, public_url="https://map.example.gov.cn/onemap")
    with make_client(settings) as client:
        wms = client.get("/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
        assert wms.status_code == 200
        assert 'xlink:href="https://map.example.gov.cn/onemap/wms?' in wms.text
        wmts = client.get("/wmts/1.0.0/WMTSCapabilities.xml")
        assert "https://map.example.gov.cn/onemap/wmts/plan/" in wmts.text
        assert "testserver" not in wms.text + wmts.text
