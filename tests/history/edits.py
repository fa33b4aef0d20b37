"""Making a second release from a first one by editing its feature tables: the release folder
copied under a new id, tables rewritten with GDAL, the manifest rewritten so that it verifies."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from publish.features.rowhashes import row_hashes_path, write_row_hashes
from publish.release.manifest import read_manifest, write_manifest

Edit = Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]


def copy_release(source: Path, tiles: Path, release_id: str) -> Path:
    """The release at `source` copied to tiles/releases/<release_id> (its manifest says so)."""
    target = tiles / "releases" / release_id
    shutil.copytree(source, target)
    manifest = read_manifest(target)
    manifest["release"] = release_id
    write_manifest(target, manifest)
    return target


def read_table(release: Path, layer_id: str, crs: str) -> gpd.GeoDataFrame:
    """A layer's table from the release's internal GeoPackage, in `crs`, fid as a column."""
    frame = pyogrio.read_dataframe(
        release / "features" / "internal.gpkg", layer=layer_id, fid_as_index=True
    )
    return frame.rename_axis("fid").reset_index().to_crs(crs)


def edit_layers(release: Path, edits: dict[str, Edit], **manifest_changes: Any) -> None:
    """Apply each edit (a function of the layer's table in the city's CRS, fid a column) to
    every feature GeoPackage of the release holding that layer, then rewrite the manifest:
    the edited layers get new fingerprints and feature counts; `manifest_changes` are set on
    the manifest's top level (nested dicts merged one level deep)."""
    manifest = read_manifest(release)
    crs = manifest["crs"]
    for layer_id, edit in edits.items():
        edited = edit(read_table(release, layer_id, crs))
        edited["area_m2"] = edited.geometry.area.where(
            edited.geometry.geom_type.str.contains("Polygon")
        )
        out = edited.to_crs("EPSG:4326")
        for gpkg in sorted((release / "features").glob("*.gpkg")):
            if layer_id not in pyogrio.list_layers(gpkg)[:, 0]:
                continue
            pyogrio.write_dataframe(
                out,
                gpkg,
                layer=layer_id,
                driver="GPKG",
                promote_to_multi=True,
                layer_options={"OVERWRITE": "YES"},
            )
        # the row hashes the diff reads, as a build writes them for the edited table
        store = release / "features" / "internal.gpkg"
        write_row_hashes(store, layer_id, "BSM", row_hashes_path(store, layer_id))
        entry = manifest["layers"][layer_id]
        entry["fingerprint"] = f"edited-{entry['fingerprint']}"
        entry["features"] = len(out)
    for key, value in manifest_changes.items():
        if isinstance(value, dict) and isinstance(manifest.get(key), dict):
            manifest[key] = {**manifest[key], **value}
        else:
            manifest[key] = value
    write_manifest(release, manifest)
