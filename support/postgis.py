"""A throwaway PostgreSQL 15 + PostGIS cluster (Debian packages postgresql, postgresql-15-postgis-3)
for the PostGIS tests (tests/ogc/test_postgresql.py) and bench/serve.py: initdb as `postgres` in a temporary folder, started with
pg_ctl on a free port (TCP on 127.0.0.1 and a unix socket in that folder), trust authentication,
a database with PostGIS; stopped and deleted on exit. Needs root (runuser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from publish.ogc.postgis import Database
from support.ports import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"


def _as_postgres(*args: str | Path) -> None:
    command = ["runuser", "-u", SUPERUSER, "--", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stdout}{done.stderr}")


def new_database(cluster: Database, dbname: str) -> Database:
    """A new database with PostGIS in the cluster that `cluster` connects to (as superuser)."""
    import psycopg2

    admin = psycopg2.connect(cluster.libpq)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    admin.close()
    db = Database(dbname=dbname, user=cluster.user, host=cluster.host, port=cluster.port)
    conn = psycopg2.connect(db.libpq)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION postgis")
    conn.close()
    return db


@contextmanager
def postgis_cluster(dbname: str = "onemap", settings: tuple[str, ...] = ()) -> Iterator[Database]:
    """A running cluster with database `dbname` holding PostGIS; `settings` are extra
    `-c name=value` server settings."""
    if os.geteuid() != 0:
        raise RuntimeError("the throwaway PostgreSQL cluster needs root (runuser -u postgres)")
    root = Path(tempfile.mkdtemp(prefix="onemap-pg-"))  # in /tmp: postgres can reach it
    shutil.chown(root, SUPERUSER, SUPERUSER)
    data = root / "data"
    port = free_port()
    options = [f"-p {port}", f"-k {root}", "-c listen_addresses=127.0.0.1", "-c fsync=off"]
    options += [f"-c {s}" for s in settings]
    started = False
    try:
        _as_postgres(PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8")
        _as_postgres(
            *(PG_BIN / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "60"),
            *("-o", " ".join(options), "start"),
        )
        started = True
        yield new_database(
            Database(dbname="postgres", user=SUPERUSER, host="127.0.0.1", port=port), dbname
        )
    finally:
        if started:
            _as_postgres(PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
