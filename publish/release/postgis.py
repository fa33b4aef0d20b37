"""A release whose OGC API features come from PostGIS through pygeoapi's PostgreSQL provider
(our subclass of it, publish.ogc.postgis_features, which filters with CQL2 and q as the
GeoPackage provider does).

The build writes features into the release's GeoPackages and the server reads them through our
R-tree provider (publish.ogc.features). A deployment that keeps its features in PostgreSQL/PostGIS
(to share them with other systems, or to query them with SQL) publishes a release there with

    python -m publish.release.postgis --tiles DIR \
        --dsn "host=db port=5432 dbname=onemap user=onemap" [--release ID] [--prune]

which makes a new release from the current one (or `--release ID`):

1. each audience's feature tables are loaded with ogr2ogr into a schema of their own,
   `onemap_<audience>_<new release id>` (fid kept as the primary key, geometry column `geom`
   in EPSG:4326 with a GiST index, column names as published); row counts are checked;
2. the new release holds the same files (hard links) except `ogc/<audience>.yml`, whose
   collections read their features with our PostGIS provider (publish.ogc.postgis_features.
   PostGISProvider, a pygeoapi PostgreSQL provider) from that audience's schema (the
   public schema holds the public tables only, as the public GeoPackage does);
3. the release is committed and `current` switched, so running servers load it within their
   check interval (or on SIGHUP); `release switch` rolls back as for any release; `--prune`
   drops the schemas of releases no longer kept.

A schema belongs to one release and is never rewritten while a server may read it. The
password never enters the release: libpq reads it from PGPASSWORD or ~/.pgpass, for ogr2ogr
here and for the server (pygeoapi connects through psycopg2).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml

from publish.errors import PublishError, ReleaseError
from publish.ogc.config import FEATURE_PROVIDER, collections, write_config
from publish.ogc.postgis import (
    SCHEMA_PREFIX,
    Database,
    drop_schema,
    load_tables,
    postgresql_config,
    require_postgis,
    schema_name,
)
from publish.release.manifest import read_manifest, write_manifest
from publish.release.store import ReleaseStore, new_release_id
from publish.release.verify import verify_release


def feature_tables(doc: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The GeoPackage (release-relative) and tables our feature provider reads in `doc`."""
    gpkgs: set[str] = set()
    tables: list[str] = []
    for cid, resource in collections(doc).items():
        for provider in resource.get("providers") or []:
            if provider.get("type") == "feature" and provider.get("name") == FEATURE_PROVIDER:
                gpkgs.add(str(provider["data"]))
                tables.append(str(provider.get("table") or cid))
    if len(gpkgs) > 1:
        raise ReleaseError(f"collections read several GeoPackages: {sorted(gpkgs)}")
    return (gpkgs.pop() if gpkgs else None), tables


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish_on_postgis(
    tiles_dir: Path, db: Database, *, release_id: str | None = None
) -> tuple[str, Path]:
    """Make a release from `release_id` (default: the current one) whose features are served
    from PostGIS, and make it current. Returns its id and folder."""
    store = ReleaseStore(Path(tiles_dir))
    source_id = release_id or store.current_id()
    if source_id is None:
        raise ReleaseError(f"{tiles_dir}: no current release")
    source = store.releases / source_id
    problems = verify_release(source, digests=False)
    if problems:
        raise ReleaseError(f"release {source_id}: " + "; ".join(problems[:5]))
    manifest = read_manifest(source)
    require_postgis(db)

    seed = f"{source_id}|postgis|{db.libpq}|{os.getpid()}|{os.times().elapsed}"
    new_id = new_release_id(hashlib.sha256(seed.encode()).hexdigest())
    staged = store.staging_dir(new_id)
    schemas: dict[str, str] = {}
    try:
        configs: dict[str, dict[str, Any]] = {}
        for audience, entry in (manifest.get("audiences") or {}).items():
            if not isinstance(entry, dict) or not entry.get("ogc"):
                continue
            rel = str(entry["ogc"])
            doc = yaml.safe_load((source / rel).read_text(encoding="utf-8"))
            gpkg, tables = feature_tables(doc)
            if gpkg is None:
                continue
            schema = schema_name(new_id, audience)
            schemas[audience] = schema
            load_tables(db, source / gpkg, schema, tables)
            configs[rel] = postgresql_config(doc, db, schema)
        for rel in manifest["files"]:
            if rel not in configs:
                _link_or_copy(source / rel, staged / rel)
        for rel, doc in configs.items():
            write_config(doc, staged / rel)
        out = {k: v for k, v in manifest.items() if k != "files"}
        out["release"] = new_id
        out["postgis"] = {
            "derived_from": source_id,
            "database": {"host": db.host, "port": db.port, "dbname": db.dbname, "user": db.user},
            "schemas": schemas,
        }
        write_manifest(staged, out)
        path = store.commit(staged, new_id)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        for schema in schemas.values():
            with suppress(PublishError):
                drop_schema(db, schema)
        raise
    return new_id, path


def prune_schemas(tiles_dir: Path, db: Database) -> list[str]:
    """Drop the `onemap_*` schemas of releases no longer under `tiles_dir`; their names."""
    kept = {
        schema
        for rid in ReleaseStore(Path(tiles_dir)).ids()
        for schema in (schema_name(rid, "public"), schema_name(rid, "internal"))
    }
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1",
            (SCHEMA_PREFIX + r"\_%",),
        )
        doomed = [name for (name,) in cur.fetchall() if name not in kept]
    for schema in doomed:
        drop_schema(db, schema)
    return doomed


# -- the command ----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tiles", required=True, help="the tiles folder (DIR/current)")
    parser.add_argument(
        "--dsn", required=True, help='libpq connection, e.g. "host=db dbname=onemap user=onemap"'
    )
    parser.add_argument("--release", help="the release to publish (default: the current one)")
    parser.add_argument(
        "--prune", action="store_true", help="also drop schemas of releases no longer kept"
    )


def run(args: argparse.Namespace) -> int:
    db = Database.from_dsn(args.dsn)
    new_id, path = publish_on_postgis(Path(args.tiles), db, release_id=args.release)
    print(f"release {new_id}: {path} (features in PostGIS, {db.libpq})")
    if args.prune:
        for schema in prune_schemas(Path(args.tiles), db):
            print(f"dropped schema {schema}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m publish.release.postgis",
        description="Publish a release whose OGC API features are served from PostGIS.",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
