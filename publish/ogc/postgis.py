"""Features in PostGIS for pygeoapi's stock PostgreSQL provider (deployments on PostGIS).

`Database` names a PostgreSQL database with PostGIS (never a password: libpq reads it from
PGPASSWORD or ~/.pgpass, for ogr2ogr here and for the server, whose pygeoapi connects through
psycopg2). `load_tables` copies GeoPackage tables into a new schema with ogr2ogr (fid kept as the
primary key, geometry column `geom` in EPSG:4326 with a GiST index, column names as published,
the GeoPackage's attribute indexes as B-trees) and checks the row counts; `postgresql_config` points a release's pygeoapi configuration at such a
schema; `open_provider` is what the server runs when it loads a release that uses one, so that a
table it cannot reach refuses the release rather than failing its first request. Releases made
this way: publish.release.postgis.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publish.errors import ReleaseError
from publish.gpkg.reader import json_schema_type
from publish.gpkg.schema import indexed_columns, open_readonly, row_count
from publish.ogc.config import FEATURE_PROVIDER, collections

# pygeoapi's PostgreSQL provider with our CQL2 filter and `q` (publish.ogc.postgis_features)
POSTGRESQL_PROVIDER = "publish.ogc.postgis_features.PostGISProvider"
STOCK_POSTGRESQL_PROVIDER = "PostgreSQL"  # pygeoapi's own (pygeoapi.provider.sql), earlier releases
GEOMETRY_COLUMN = "geom"
ID_COLUMN = "fid"
SCHEMA_PREFIX = "onemap"
_REPLACED_KEYS = frozenset({"type", "name", "data", "table", "id_field", "geom_field"})


@dataclass(frozen=True)
class Database:
    """Where the features go: a PostgreSQL database with PostGIS (no password: see libpq)."""

    dbname: str
    user: str
    host: str = "localhost"  # a name, an address, or a unix socket directory
    port: int = 5432

    @classmethod
    def from_dsn(cls, dsn: str) -> Database:
        """From a libpq connection string (`host=… dbname=…`) or URI (`postgresql://…`)."""
        from psycopg2 import ProgrammingError
        from psycopg2.extensions import parse_dsn

        try:
            params = parse_dsn(dsn)
        except ProgrammingError as exc:
            raise ReleaseError(f"--dsn is not a libpq connection string: {exc}") from None
        if "password" in params:
            raise ReleaseError(
                "--dsn holds a password: give it in PGPASSWORD or ~/.pgpass instead "
                "(it would otherwise be written into the release's pygeoapi configuration)"
            )
        unknown = sorted(set(params) - {"dbname", "user", "host", "port"})
        if unknown:
            raise ReleaseError(f"--dsn: only host, port, dbname and user are used, not {unknown}")
        if not params.get("dbname") or not params.get("user"):
            raise ReleaseError("--dsn needs dbname and user")
        try:
            port = int(params.get("port", 5432))
        except ValueError:
            raise ReleaseError(f"--dsn: port {params['port']!r} is not a number") from None
        return cls(
            dbname=params["dbname"],
            user=params["user"],
            host=params.get("host") or "localhost",
            port=port,
        )

    @property
    def libpq(self) -> str:
        return f"host={self.host} port={self.port} dbname={self.dbname} user={self.user}"

    def provider_data(self, schema: str) -> dict[str, Any]:
        """The `data` of a pygeoapi PostgreSQL provider reading tables of `schema`."""
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "search_path": [schema, "public"],
        }

    @contextmanager
    def connect(self) -> Iterator[Any]:
        import psycopg2

        try:
            conn = psycopg2.connect(self.libpq, application_name="onemap-publish")
        except psycopg2.OperationalError as exc:
            raise ReleaseError(f"cannot connect to {self.libpq}: {exc}".strip()) from None
        try:
            with conn:
                yield conn
        finally:
            conn.close()


def schema_name(release_id: str, audience: str) -> str:
    """The schema holding `audience`'s tables of release `release_id` (lower case, ≤ 63)."""
    name = f"{SCHEMA_PREFIX}_{audience}_{release_id}".lower().replace("-", "_")
    if not name.replace("_", "").isalnum() or len(name) > 63:
        raise ReleaseError(f"cannot name a schema after release {release_id!r}")
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def require_postgis(db: Database) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        if cur.fetchone() is None:
            raise ReleaseError(
                f"database {db.dbname} has no PostGIS: run CREATE EXTENSION postgis there"
            )


def _index_keys(column: str, declared: str) -> list[str]:
    """The B-tree keys that index a GeoPackage column in PostgreSQL. A text column gets two:
    in collation C, what our provider compares in (publish.ogc.postgis_features: =, IN, <, LIKE
    'prefix%'), and text_pattern_ops, which serves = and LIKE 'prefix%' to a client comparing
    in the database's own collation (stock pygeoapi, QGIS)."""
    if json_schema_type(declared) == {"type": "string"}:
        return [f'{column} COLLATE "C"', f"{column} text_pattern_ops"]
    return [column]


def load_tables(db: Database, gpkg: Path, schema: str, tables: Sequence[str]) -> dict[str, int]:
    """Copy `tables` of the GeoPackage `gpkg` into the new schema `schema`; their row counts.
    ReleaseError when the schema exists already, ogr2ogr fails, or a count differs."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        if cur.fetchone() is not None:
            raise ReleaseError(f"schema {schema} exists already in {db.dbname}")
        cur.execute(f"CREATE SCHEMA {_quote(schema)}")
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise ReleaseError("ogr2ogr not found (Debian package gdal-bin)")
    command = [
        ogr2ogr,
        *("-f", "PostgreSQL", f"PG:{db.libpq}", str(gpkg), *tables),
        *("-lco", f"SCHEMA={schema}", "-lco", f"GEOMETRY_NAME={GEOMETRY_COLUMN}"),
        *("-lco", f"FID={ID_COLUMN}", "-lco", "LAUNDER=NO", "-lco", "SPATIAL_INDEX=GIST"),
        *("-preserve_fid", "--config", "PG_USE_COPY", "YES"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"ogr2ogr into {schema} failed: {done.stderr.strip()[-2000:]}")
    counts: dict[str, int] = {}
    source = open_readonly(gpkg)
    try:
        with db.connect() as conn, conn.cursor() as cur:
            for table in tables:
                qualified = f"{_quote(schema)}.{_quote(table)}"
                cur.execute("SELECT to_regclass(%s)", (qualified,))
                if cur.fetchone()[0] is None:
                    raise ReleaseError(f"ogr2ogr wrote no table {qualified}")
                cur.execute(f"SELECT count(*) FROM {qualified}")
                counts[table] = int(cur.fetchone()[0])
                expected = row_count(source, table)
                if counts[table] != expected:
                    raise ReleaseError(
                        f"{qualified}: {counts[table]} rows, the GeoPackage has {expected}"
                    )
                for column, declared in indexed_columns(source, table):
                    for key in _index_keys(_quote(column), declared):
                        cur.execute(f"CREATE INDEX ON {qualified} ({key})")
                cur.execute(f"ANALYZE {qualified}")
    finally:
        source.close()
    return counts


def drop_schema(db: Database, schema: str) -> None:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE")


def postgresql_config(doc: Mapping[str, Any], db: Database, schema: str) -> dict[str, Any]:
    """A copy of a release's pygeoapi configuration whose collections read their features with
    our PostgreSQL provider from `schema` (same table names, ids, CRSs, title and code fields)."""
    out = copy.deepcopy(dict(doc))
    for cid, resource in collections(out).items():
        providers = resource.get("providers") or []
        for i, provider in enumerate(providers):
            if provider.get("type") != "feature" or provider.get("name") != FEATURE_PROVIDER:
                continue
            kept = {k: v for k, v in provider.items() if k not in _REPLACED_KEYS}
            providers[i] = {
                "type": "feature",
                "name": POSTGRESQL_PROVIDER,
                "data": db.provider_data(schema),
                "table": str(provider.get("table") or cid),
                "id_field": ID_COLUMN,
                "geom_field": GEOMETRY_COLUMN,
                **kept,  # title_field, code_field, storage_crs, crs
            }
    return out


def open_provider(definition: Mapping[str, Any], where: str) -> Any:
    """The PostgreSQL provider for `definition`, made now so that a release whose table
    cannot be reached is refused when it loads rather than on its first request."""
    from pygeoapi.plugin import load_plugin
    from pygeoapi.provider.base import ProviderGenericError

    try:
        return load_plugin("provider", copy.deepcopy(dict(definition)))
    except ProviderGenericError as exc:
        raise ReleaseError(f"{where}: {exc.message}") from None
    except Exception as exc:  # SQLAlchemy and psycopg2 errors that pygeoapi lets through
        raise ReleaseError(f"{where}: {type(exc).__name__}: {exc}".strip()) from None
