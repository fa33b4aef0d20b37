"""`python -m publish sample`: the whole sample city, written with its layer catalog."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from publish.sample import controls as ctl
from publish.sample import landuse
from publish.sample.changes import write_changes
from publish.sample.defects import add_defects
from publish.sample.geography import CITY_CODE, CITY_NAME, Geography, build_geography
from publish.sample.indicators import write_sample_model
from publish.sample.networks import build_rivers, build_roads
from publish.sample.revision import check_revision, revise
from publish.sample.writer import SOURCE_CRS, LayerOut, frame, write_catalog, write_layer

DEFAULT_PARCELS = 20_000
# the viewer's layer groups, named in both languages in the catalog
GROUPS = {
    "三区三线": "Three zones, three lines",
    "规划分区": "Planning zones",
    "用地用海": "Planned land use",
    "现状": "Current land use",
    "行政区": "Administrative units",
    "村庄": "Villages",
    "基础地理": "Base geography",
    "审批": "Approvals",
}


@dataclass
class SampleResult:
    catalog: Path
    counts: dict[str, int] = field(default_factory=dict)
    defects: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    changes: dict[str, Any] = field(default_factory=dict)  # changes.json (publish.sample.changes)


def _entry(
    layer_id: str,
    zh: str,
    en: str,
    source: str,
    role: str,
    fields: list[str],
    *,
    access: str = "public",
    layer: str | None = None,
    group: str,
    **extra: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": layer_id, "title": {"zh": zh, "en": en}, "source": source}
    if layer:
        entry["layer"] = layer
    field_titles = extra.pop("field_titles", None)
    entry.update(extra)
    entry.update(access=access, role=role, group={"zh": group, "en": GROUPS[group]}, fields=fields)
    if field_titles:
        entry["field_titles"] = field_titles
    return entry


def _town_columns(towns: list[Any]) -> dict[str, Any]:
    return {"XZQDM": [t.code for t in towns], "XZQMC": [t.name for t in towns]}


def generate(
    out: Path,
    parcels: int = DEFAULT_PARCELS,
    seed: int = 20_241_231,
    with_defects: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    revision: int = 1,
) -> SampleResult:
    """Revision 1 is the sample as generated; revision N ≥ 2 applies the steps 2..N of
    publish.sample.revision to it. changes.json lists what revision N changed (nothing for 1)."""
    check_revision(revision, with_defects=with_defects)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    progress("geography")
    geo = build_geography(rng)
    progress("rivers and roads")
    rivers = build_rivers(rng, geo)
    roads = build_roads(rng, geo)
    progress("control lines")
    controls = ctl.build_controls(rng, geo, rivers, roads)
    progress("villages and planning zones")
    villages = landuse.build_villages(rng, geo, controls)
    zones = landuse.build_zones(rng, geo, controls, villages)
    progress("planned land use")
    planned = landuse.build_planned_use(rng, geo, controls, rivers, roads)
    progress(f"{parcels:,} current land-use parcels")
    cells, codes, town_index = landuse.build_current_use(rng, geo, controls, rivers, parcels)
    progress("writing")
    items = _layers(rng, geo, rivers, roads, controls, villages, zones, planned)
    items.append(_current_use(rng, geo, cells, codes, town_index))
    meta = {
        "city": {"code": CITY_CODE, "name": CITY_NAME, "crs": SOURCE_CRS},
        "description": "Sample city modelled on Zhangjiajie; generated, not authoritative data.",
    }
    progress("indicator model")
    write_sample_model(out, items, meta)  # targets from revision 1's figures
    if revision > 1:
        progress(f"revision {revision}")
    changes = revise(items, geo, controls.valleys, seed=seed, revision=revision)
    defects = add_defects(rng, items) if with_defects else []
    for item in items:
        write_layer(out, item)
    catalog = write_catalog(out, items, meta)
    write_changes(out, changes)
    if with_defects:
        (out / "defects.json").write_text(
            json.dumps(defects, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    counts = {item.entry["id"]: len(item.frame) for item in items}
    return SampleResult(catalog, counts, defects, time.perf_counter() - started, changes)


def _layers(
    rng: np.random.Generator,
    geo: Geography,
    rivers: list[Any],
    roads: list[Any],
    controls: ctl.Controls,
    villages: list[ctl.Feature],
    zones: list[ctl.Feature],
    planned: list[ctl.Feature],
) -> list[LayerOut]:
    items: list[LayerOut] = []
    counties = list(geo.counties.items())
    county_names = {t.county.code: t.county.name for t in geo.townships}
    items.append(LayerOut(
        frame([g for _, g in counties], {
            "YSDM": "1000600100", "XZQDM": [c for c, _ in counties],
            "XZQMC": [county_names[c] for c, _ in counties]}, 100_000_000),
        _entry("xzq_xian", "县级行政区", "County-level units", "xzq.gpkg", "admin",
               ["BSM", "YSDM", "XZQDM", "XZQMC", "MJ"], layer="xzq_xian", group="行政区",
               name_field="XZQMC", minzoom=0, maxzoom=12),
        "gpkg", "xzq.gpkg", "xzq_xian"))  # fmt: skip
    items.append(LayerOut(
        frame([t.geometry for t in geo.townships], {
            "YSDM": "1000600200", **_town_columns(geo.townships),
            "SSXDM": [t.county.code for t in geo.townships]}, 200_000_000),
        _entry("xzq_xiang", "乡级行政区", "Townships and streets", "xzq.gpkg", "admin",
               ["BSM", "YSDM", "XZQDM", "XZQMC", "SSXDM", "MJ"], layer="xzq_xiang",
               group="行政区", name_field="XZQMC", minzoom=0, maxzoom=12),
        "gpkg", "xzq.gpkg", "xzq_xiang"))  # fmt: skip
    red_towns: list[Any] = [f.props["township"] for f in controls.red_line]
    kinds = ["水源涵养", "水土保持", "生物多样性维护"]
    heritage = shapely.union_all(
        [f.geometry for f in controls.protected if f.props["GNFQ"] != "缓冲区"]
    )
    names, types = [], []
    for f, town in zip(controls.red_line, red_towns, strict=True):
        if f.geometry.intersection(heritage).area > 0.5 * f.geometry.area:
            kind = "生物多样性维护"
            names.append(f"{town.name}自然遗产与保护地生态保护红线")
        else:
            kind = str(rng.choice(kinds))
            names.append(f"{town.name}{kind}生态保护红线")
        types.append(kind)
    items.append(LayerOut(
        frame([f.geometry for f in controls.red_line], {
            "YSDM": "2090010100", "HXMC": names, "HXLX": types,
            **_town_columns(red_towns)}, 300_000_000),
        _entry("stbhhx", "生态保护红线", "Ecological protection red line", "ghcg.gpkg",
               "red_line", ["BSM", "YSDM", "HXMC", "HXLX", "XZQDM", "XZQMC", "MJ"],
               layer="stbhhx", group="三区三线", name_field="HXMC", minzoom=0, maxzoom=14),
        "gpkg", "ghcg.gpkg", "stbhhx"))  # fmt: skip
    farm_towns = [geo.township_at(*f.geometry.centroid.coords[0]) or geo.townships[0]
                  for f in controls.farmland]  # fmt: skip
    farm_codes = rng.choice(["0101", "0102", "0103"], size=len(farm_towns), p=[0.6, 0.05, 0.35])
    items.append(LayerOut(
        frame([f.geometry for f in controls.farmland], {
            "YSDM": "2040010100",
            "TBBH": [f"{i + 1:06d}" for i in range(len(farm_towns))],
            "DLBM": farm_codes, "DLMC": [landuse.class_name(c) for c in farm_codes],
            "ZLDWDM": [t.code for t in farm_towns], "ZLDWMC": [t.name for t in farm_towns],
            **_town_columns(farm_towns),
            "CBJYQR": [f"{rng.choice(list('张王李赵刘陈杨黄周吴'))}某某" for _ in farm_towns],
        }, 400_000_000),
        _entry("yjjbnt", "永久基本农田", "Permanent basic farmland", "yjjbnt.shp", "farmland",
               ["BSM", "YSDM", "TBBH", "DLBM", "DLMC", "ZLDWDM", "ZLDWMC", "XZQDM", "XZQMC",
                "MJ"], encoding="GBK", crs="EPSG:4546", group="三区三线", minzoom=8, maxzoom=14,
               description="Delivered as a Shapefile without .cpg: the catalog gives GBK."),
        "shp-nocpg", "yjjbnt.shp"))  # fmt: skip
    urban_towns = [geo.township_at(*f.geometry.representative_point().coords[0])
                   or geo.townships[0] for f in controls.urban]  # fmt: skip
    items.append(LayerOut(
        frame([f.geometry for f in controls.urban], {
            "YSDM": "2090030100", "GHFQDM": [f.props["GHFQDM"] for f in controls.urban],
            "GHFQMC": [f.props["GHFQMC"] for f in controls.urban],
            **_town_columns(urban_towns)}, 500_000_000),
        _entry("czkfbj", "城镇开发边界", "Urban development boundary", "czkfbj.shp",
               "urban_boundary", ["BSM", "YSDM", "GHFQDM", "GHFQMC", "XZQDM", "XZQMC", "MJ"],
               encoding="GBK", group="三区三线", minzoom=0, maxzoom=14),
        "shp", "czkfbj.shp"))  # fmt: skip
    zone_towns = [f.props["township"] for f in zones]
    items.append(LayerOut(
        frame([f.geometry for f in zones], {
            "YSDM": "2090040100", "GHFQDM": [f.props["GHFQDM"] for f in zones],
            "GHFQMC": [f.props["GHFQMC"] for f in zones], **_town_columns(zone_towns)},
            600_000_000, coverage=True),
        _entry("ghfq", "规划分区", "Planning zones", "ghcg.gpkg", "planning_zone",
               ["BSM", "YSDM", "GHFQDM", "GHFQMC", "XZQDM", "XZQMC", "MJ"], layer="ghfq",
               group="规划分区", code_field="GHFQDM", minzoom=0, maxzoom=14),
        "gpkg", "ghcg.gpkg", "ghfq"))  # fmt: skip
    plan_towns = [geo.township_at(*f.geometry.representative_point().coords[0])
                  or geo.townships[0] for f in planned]  # fmt: skip
    items.append(LayerOut(
        frame([f.geometry for f in planned], {
            "YSDM": "2090050100", "YDYHFLDM": [f.props["YDYHFLDM"] for f in planned],
            "YDYHFLMC": [f.props["YDYHFLMC"] for f in planned], **_town_columns(plan_towns)},
            700_000_000),
        _entry("ydyh", "用地用海规划（中心城区）", "Planned land and sea use (central city)",
               "zxcq_ydyh.shp", "land_use",
               ["BSM", "YSDM", "YDYHFLDM", "YDYHFLMC", "XZQDM", "XZQMC", "MJ"],
               encoding="GBK", group="用地用海", indexed_fields=["XZQDM", "MJ"],
               code_field="YDYHFLDM", minzoom=8, maxzoom=15),
        "shp", "zxcq_ydyh.shp"))  # fmt: skip
    items.append(LayerOut(
        frame([v.geometry for v in villages],
              {k: [v.props[k] for v in villages] for k in villages[0].props}, 800_000_000,
              with_area=False),
        _entry("cun", "村庄", "Villages and communities", "cun.geojson", "other",
               ["BSM", "CJDM", "CJMC", "LX", "SSXZ", "XZQDM", "XZQMC"], geometry="point",
               group="村庄", name_field="CJMC", id_field="BSM", minzoom=9, maxzoom=14),
        "geojson", "cun.geojson"))  # fmt: skip
    items.append(LayerOut(
        frame([r.geometry for r in rivers], {
            "HLMC": [r.name for r in rivers], "HLDJ": [r.grade for r in rivers],
            "CD": [round(r.geometry.length, 1) for r in rivers]}, 900_000_000, with_area=False),
        _entry("hl", "河流", "Rivers", "hl.geojson", "other", ["BSM", "HLMC", "HLDJ", "CD"],
               geometry="line", group="基础地理", name_field="HLMC", minzoom=0, maxzoom=14),
        "geojson", "hl.geojson"))  # fmt: skip
    items.append(LayerOut(
        frame([r.geometry for r in roads], {
            "LXMC": [r.name for r in roads], "LXDJ": [r.grade for r in roads],
            "CD": [round(r.geometry.length, 1) for r in roads]}, 1_000_000_000, with_area=False),
        _entry("dl", "道路", "Roads", "dl.shp", "other", ["BSM", "LXMC", "LXDJ", "CD"],
               geometry="line", encoding="GBK", group="基础地理", name_field="LXMC",
               minzoom=0, maxzoom=14),
        "shp", "dl.shp"))  # fmt: skip
    items.append(LayerOut(
        frame([f.geometry for f in controls.protected],
              {k: [f.props[k] for f in controls.protected] for k in controls.protected[0].props},
              1_100_000_000),
        _entry("zrbhd", "自然保护地", "Protected areas", "ghcg.gpkg", "other",
               ["BSM", "ZRBHDMC", "ZRBHDLX", "GNFQ", "JB", "MJ"], layer="zrbhd",
               geometry="polygon", group="三区三线", name_field="ZRBHDMC", minzoom=0, maxzoom=14),
        "gpkg", "ghcg.gpkg", "zrbhd"))  # fmt: skip
    items.append(_approvals(rng, geo, controls))
    return items


def _approvals(rng: np.random.Generator, geo: Geography, controls: ctl.Controls) -> LayerOut:
    """在审建设项目: internal-only, exported from a web approval system in GCJ-02."""
    from publish.sample.noise import blob

    urban = [f.geometry for f in controls.urban if f.props["GHFQDM"] == "41"]
    sites, props = [], []
    uses = ["1001", "0701", "0901", "0804", "1101", "1202", "0806"]
    for i in range(40):
        host = urban[int(rng.integers(len(urban)))]
        p = host.buffer(600).exterior.interpolate(rng.random(), normalized=True)
        site = blob(rng, (p.x, p.y), float(rng.uniform(80, 300)), 0.15, 1.5, rng.uniform(0, 3))
        sites.append(site.intersection(geo.city))
        use = str(rng.choice(uses))
        props.append({
            "XMMC": f"{landuse.class_name(use)}建设项目{i + 1:02d}号",
            "JSDW": f"张家界{rng.choice(['城投', '文旅', '交投', '产业园'])}发展有限公司",
            "SQYT": use, "SPZT": str(rng.choice(["受理", "审查中", "待批"])),
            "SQSJ": f"2026-{int(rng.integers(1, 11)):02d}-{int(rng.integers(1, 28)):02d}",
            "LXR": f"{rng.choice(list('张王李赵刘'))}工", "LXDH": f"1{rng.integers(10**9, 10**10)}",
        })  # fmt: skip
    columns = {k: [p[k] for p in props] for k in props[0]}
    return LayerOut(
        frame(sites, columns, 1_200_000_000),
        _entry("spxm", "在审建设项目", "Projects under review", "spxm_gcj02.geojson", "other",
               ["BSM", "XMMC", "JSDW", "SQYT", "SPZT", "SQSJ", "MJ"], access="internal",
               crs="GCJ-02", geometry="polygon", group="审批", name_field="XMMC",
               minzoom=8, maxzoom=15, field_titles={
                   # the approval system's fields: not in the planning database standard
                   "XMMC": {"zh": "项目名称", "en": "Project"},
                   "JSDW": {"zh": "建设单位", "en": "Developer"},
                   "SQYT": {"zh": "申请用途", "en": "Requested use"},
                   "SPZT": {"zh": "审批状态", "en": "Approval status"},
                   "SQSJ": {"zh": "申请时间", "en": "Applied on"}},
               description="Exported from the approval system's web map, in GCJ-02."),
        "geojson-gcj02", "spxm_gcj02.geojson")  # fmt: skip


def _current_use(
    rng: np.random.Generator,
    geo: Geography,
    cells: np.ndarray,
    codes: np.ndarray,
    town_index: np.ndarray,
) -> LayerOut:
    towns = geo.townships
    town_codes = np.array([t.code for t in towns])[town_index]
    town_names = np.array([t.name for t in towns])[town_index]
    names = {c: landuse.class_name(c) for c in np.unique(codes)}
    owners = np.char.add(town_names.astype(str), "农民集体")
    return LayerOut(
        frame(cells, {
            "YSDM": "2001010100", "TBBH": np.char.zfill(np.arange(1, len(cells) + 1).astype(str), 7),
            "DLBM": codes, "DLMC": np.array([names[c] for c in codes]),
            "ZLDWDM": town_codes, "ZLDWMC": town_names, "XZQDM": town_codes,
            "XZQMC": town_names, "QSXZ": "30", "QSDWMC": owners}, 1_300_000_000),
        _entry("dltb", "现状地类图斑（三调）", "Current land use (third land survey)",
               "dltb.gpkg", "current_use",
               ["BSM", "YSDM", "TBBH", "DLBM", "DLMC", "ZLDWDM", "ZLDWMC", "XZQDM", "XZQMC",
                "MJ"], layer="dltb", group="现状", indexed_fields=["XZQDM", "MJ"],
               code_field="DLBM", minzoom=10, maxzoom=14),
        "gpkg", "dltb.gpkg", "dltb")  # fmt: skip
