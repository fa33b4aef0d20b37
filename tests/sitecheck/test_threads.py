"""Site checks from several threads at once on one store (the server runs them in worker
threads). The store's resident layers hold prepared GEOS geometries, which are not thread-safe:
before check_site took the store's lock, two concurrent large checks crashed the process with a
segfault in shapely.intersects."""

from __future__ import annotations

import json
import threading
from typing import Any

from publish.sitecheck.check import check_site
from publish.sitecheck.inputs import parse_site
from publish.sitecheck.store import SiteStore
from support.heavy import largest_site

CRS = "EPSG:4546"  # the sample city's working CRS


def test_concurrent_checks_on_one_store(public_store: SiteStore) -> None:
    site = parse_site(json.loads(largest_site())["inputs"], work_crs=CRS)
    alone = check_site(public_store, site)
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(3):
                reports.append(check_site(public_store, site))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(reports) == 12
    assert all(report == alone for report in reports)
