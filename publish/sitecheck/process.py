"""The `site-check` process for pygeoapi (OGC API – Processes), a thin adapter over `check_site`.

The process definition in pygeoapi's configuration names this class and carries its settings::

    site-check:
      processor:
        name: publish.sitecheck.process.SiteCheckProcessor
        gpkg: /srv/tiles/current/features/public.gpkg
        catalog: /srv/tiles/current/catalog.yml
        max_area_m2: 100000000     # optional (InputLimits)
        max_vertices: 10000        # optional

pygeoapi 0.21 builds a new processor for every execution (`load_plugin(processor_def)`), so the
opened store is shared between instances, keyed by the real paths of the two files. The process
description names the city's working CRS, read from the release catalog (`city.crs`), among the
CRSs a site may be given in.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from publish.errors import PublishError
from publish.sitecheck.check import check_site
from publish.sitecheck.inputs import InputLimits, SiteCheckInputError, input_crs_names, parse_site
from publish.sitecheck.store import SiteStore, open_site_store


def process_metadata(crs: str) -> dict[str, Any]:
    """The process description of a city whose working CRS (areas, accepted input) is `crs`."""
    return {
        "version": "1.0.0",
        "id": "site-check",
        "title": {"en": "Site compliance check", "zh": "用地合规性检查"},
        "description": {
            "en": "Overlaps of a site with the control lines (red line, permanent basic farmland, "
            "urban development boundary), planning zones and planned and current land use, exact "
            f"areas in m² ({crs}), a verdict (prohibited / review / conforming) with reasons, "
            "and the villages, roads, rivers, protected areas and urban boundary around it.",
            "zh": "用地与生态保护红线、永久基本农田、城镇开发边界、规划分区、用地用海规划及现状地类的叠加分析"
            f"（{crs} 精确面积，平方米），给出禁止 / 需审查 / 符合的结论及理由，并列出周边村庄、道路、"
            "河流、自然保护地和城镇开发边界。",
        },
        "jobControlOptions": ["sync-execute"],
        "keywords": ["site check", "用地合规性检查", "三区三线", "国土空间规划"],
        "links": [],
        "inputs": {
            "geometry": {
                "title": {"en": "Site", "zh": "用地范围"},
                "description": "GeoJSON Polygon or MultiPolygon, or a Point with buffer_m.",
                "schema": {"type": "object", "contentMediaType": "application/geo+json"},
                "minOccurs": 1,
                "maxOccurs": 1,
            },
            "crs": {
                "title": {"en": "CRS of the geometry", "zh": "坐标参考系"},
                "description": f"CRS84 (default), EPSG:4490 (lat,lon), {crs} or EPSG:3857.",
                "schema": {
                    "type": "string",
                    "enum": list(input_crs_names(crs)),
                    "default": "CRS84",
                },
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "buffer_m": {
                "title": {"en": "Radius around a point (m)", "zh": "点位缓冲半径（米）"},
                "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "intended_use": {
                "title": {"en": "Intended land use", "zh": "拟用途"},
                "description": "A national land-use code (用地用海分类), e.g. 1001 industrial.",
                "schema": {"type": "string", "pattern": "^[0-9]{2,6}$"},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
            "surroundings_m": {
                "title": {"en": "Surroundings radius (m)", "zh": "周边范围（米）"},
                "schema": {"type": "number", "minimum": 0, "maximum": 5000, "default": 1000},
                "minOccurs": 0,
                "maxOccurs": 1,
            },
        },
        "outputs": {
            "report": {
                "title": {"en": "Site report", "zh": "用地检查报告"},
                "schema": {"type": "object", "contentMediaType": "application/json"},
            }
        },
        "example": {
            "inputs": {
                "geometry": {"type": "Point", "coordinates": [110.48, 29.129]},
                "buffer_m": 200,
                "intended_use": "1001",
            }
        },
    }


class SiteCheckInputProcessError(ProcessorExecuteError):
    """A bad request (pygeoapi maps http_status_code to the response where it can)."""

    http_status_code = 400
    ogc_exception_code = "InvalidParameterValue"


STORES_KEPT = 4  # two audiences × the current and the previous release
_STORES: OrderedDict[tuple[str, str], SiteStore] = OrderedDict()
_STORES_LOCK = threading.Lock()


def shared_store(gpkg: str, catalog: str) -> SiteStore:
    """One `SiteStore` per (GeoPackage, catalog) pair of real paths; the least recently used
    beyond `STORES_KEPT` are dropped (with the layers they hold in memory), so that releases
    switched away from do not stay loaded."""
    key = (os.path.realpath(gpkg), os.path.realpath(catalog))
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = open_site_store(*key)
        _STORES.move_to_end(key)
        while len(_STORES) > STORES_KEPT:
            _STORES.popitem(last=False)
        return store


def limits_from(definition: dict[str, Any]) -> InputLimits:
    """InputLimits overridden by the keys of the processor definition that name its fields."""
    defaults = InputLimits()
    values = {
        key: type(getattr(defaults, key))(definition[key])
        for key in defaults.__dataclass_fields__
        if definition.get(key) is not None
    }
    return InputLimits(**values)


class SiteCheckProcessor(BaseProcessor):
    """pygeoapi process `site-check`: the definition's `gpkg` and `catalog` name the release."""

    def __init__(self, processor_def: dict[str, Any]) -> None:
        try:
            self.gpkg = str(processor_def["gpkg"])
            self.catalog = str(processor_def["catalog"])
        except KeyError as exc:
            raise PublishError(f"site-check processor definition needs {exc.args[0]!r}") from exc
        # the city's working CRS, as the release's catalog names it (the store read it)
        self.crs = shared_store(self.gpkg, self.catalog).crs
        super().__init__(processor_def, process_metadata(self.crs))
        self.limits = limits_from(processor_def)

    def execute(
        self, data: dict[str, Any], outputs: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        try:
            site = parse_site(data, self.limits, work_crs=self.crs)
        except SiteCheckInputError as exc:
            raise SiteCheckInputProcessError(str(exc), user_msg=str(exc)) from exc
        try:
            report = check_site(shared_store(self.gpkg, self.catalog), site)
        except PublishError as exc:
            raise ProcessorExecuteError(str(exc), user_msg="the site check failed") from exc
        return "application/json", report

    def __repr__(self) -> str:
        return f"<SiteCheckProcessor {self.gpkg}>"
