"""Prometheus metrics of one app: a registry of its own (never the process-global one).

    onemap_http_requests_total{method, route, status}       requests answered
    onemap_http_request_duration_seconds{route}             latency histogram (first byte to last)
    onemap_tile_cache_hits_total, _misses_total              the TileCache's lookups
    onemap_tile_cache_entries, onemap_tile_cache_bytes       its size now
    onemap_release_info{release}                             the release served (value 1)
    onemap_release_loaded_timestamp_seconds                  when it was loaded
    onemap_release_last_load_failed                          1 if the last attempt was refused
    onemap_renderer_processes, onemap_renderer_resident_bytes the raster render processes of the
                                                             answering worker (publish.raster)

`route` is the route's template (`/tiles/{audience}/{z}/{x}/{name}`,
`/ogc/collections/{collection_id}`), never the raw path: bounded label values, and no layer id.
A refused release's reason is not exported (it may name layers); /healthz and the log give it.

With several uvicorn workers (`serve --workers N` sets PROMETHEUS_MULTIPROC_DIR for them),
prometheus_client's multiprocess mode keeps the counters and the histogram in files every worker
writes, and a scrape answered by any worker sums them all. The tile cache's hit and miss counts
are added to those files once a second (`sync`, from the lifespan), not on every request. The
gauges (cache size, the release) are the answering worker's own.

Requests are counted the same way: `observe` adds to plain counts of this process (the request,
its latency bucket, the latency sum) and `sync` adds them to the counter and the histogram, once
a second and before every scrape of this worker. An observation through prometheus_client costs
~1.2 µs (three locked increments and the bucket loop), ~3 µs in multiprocess mode (file
writes): a tenth of a cached tile's Python time, every request. A scrape answered by another
worker sees this worker's requests up to a second late, as it sees its cache counts.
"""

from __future__ import annotations

import math
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount

from publish.server.holder import ReleaseHolder
from publish.server.tilecache import TileCache

PREFIX = "onemap"
UNMATCHED = "<unmatched>"  # the route label of a path no route matches (404s of any path)
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def route_template(routes: Iterable[BaseRoute], scope: dict[str, object], prefix: str = "") -> str:
    """The template of the route that answers `scope` (mounts joined), or UNMATCHED.
    Matches the routes itself, so it works whatever the middleware did to the scope."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        path = prefix + str(getattr(route, "path", ""))
        if isinstance(route, Mount):
            if match is Match.FULL:
                inner = route.routes
                if not inner:
                    return path + "/{path}"
                found = route_template(inner, {**scope, **child}, path)
                return path + "/{path}" if found == UNMATCHED else found
            continue
        if match is Match.FULL:
            return path
        if partial is None:
            partial = path  # the path matched, the method did not (405)
    return partial or UNMATCHED


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_HITS = (f"{PREFIX}_tile_cache_hits", "Tile lookups answered from memory")
_MISSES = (f"{PREFIX}_tile_cache_misses", "Tile lookups that read the archive")


def multiprocess_dir() -> str | None:
    """The folder of prometheus_client's multiprocess mode when its values live there: it
    decides once, when it is imported, from the environment."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get(MULTIPROC_ENV) or None


class _StateCollector(Collector):
    """Reads the tile cache and the release holder at scrape time."""

    def __init__(self, cache: TileCache, holder: ReleaseHolder, *, counts: bool = True) -> None:
        self.cache = cache
        self.holder = holder
        self.counts = counts  # False: the hit and miss counts are exported as shared counters

    def collect(self) -> Iterator[Metric]:
        cache = self.cache
        if self.counts:
            yield CounterMetricFamily(*_HITS, value=cache.hits)
            yield CounterMetricFamily(*_MISSES, value=cache.misses)
        yield GaugeMetricFamily(
            f"{PREFIX}_tile_cache_entries", "Tile answers held in memory", value=len(cache)
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_tile_cache_bytes", "Bytes the tile cache holds", value=cache.bytes
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_tile_cache_max_bytes", "Bound of the tile cache", value=cache.max_bytes
        )
        release = self.holder.current
        info = InfoMetricFamily(f"{PREFIX}_release", "The release being served")
        if release is not None:
            info.add_metric([], {"release": release.id})
        yield info
        loaded = GaugeMetricFamily(
            f"{PREFIX}_release_loaded_timestamp_seconds", "When the served release was loaded"
        )
        if release is not None:
            loaded.add_metric([], release.loaded_at.timestamp())
        yield loaded
        yield GaugeMetricFamily(
            f"{PREFIX}_release_last_load_failed",
            "1 when the last attempt to load DIR/current was refused",
            value=0 if self.holder.last_error is None else 1,
        )


class Metrics:
    """The app's registry: `observe` each request, `render` for a scrape."""

    def __init__(
        self, cache: TileCache, holder: ReleaseHolder, extra: Sequence[Collector] = ()
    ) -> None:
        self.cache = cache
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from a request's arrival to its last byte, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # the labelled children, looked up once (labels() takes a lock and builds a tuple)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        # requests not yet added: (method, route, status) → [count, seconds, per bucket…]
        self._pending: dict[tuple[str, str, int], list[Any]] = {}
        self._bounds = [*LATENCY_BUCKETS, math.inf]  # the histogram's upper bounds
        # what holds requests not yet observed (the access recorder's batch), flushed first
        self.sources: list[Callable[[], None]] = []
        self.shared = multiprocess_dir() is not None
        if self.shared:  # a scrape reads every worker's files, and this worker's gauges
            self.cache_hits = Counter(*_HITS, registry=self.registry)
            self.cache_misses = Counter(*_MISSES, registry=self.registry)
            self._synced = (0, 0)
            self.exposed = CollectorRegistry()
            MultiProcessCollector(self.exposed)
            self.exposed.register(_StateCollector(cache, holder, counts=False))
        else:
            self.registry.register(_StateCollector(cache, holder))
            self.exposed = self.registry
        for collector in extra:  # the wings' own gauges (the answering worker's)
            self.exposed.register(collector)

    def sync(self) -> None:
        """Add the requests counted since the last sync to the metrics, and the tile cache's new
        hits and misses to the shared counters (multiprocess)."""
        for source in self.sources:
            source()
        self._add_pending()
        if not self.shared:
            return
        hits, misses = self.cache.hits, self.cache.misses
        last_hits, last_misses = self._synced
        if hits > last_hits:
            self.cache_hits.inc(hits - last_hits)
        if misses > last_misses:
            self.cache_misses.inc(misses - last_misses)
        self._synced = (hits, misses)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request (added to the metrics at the next `sync`)."""
        key = (method, route, status)
        pending = self._pending.get(key)
        if pending is None:
            if method not in METHODS:  # not worth an entry each: counted now
                counter, histogram = self._children_of(key)
                counter.inc()
                histogram.observe(seconds)
                return
            pending = self._pending[key] = [0, 0.0] + [0] * len(self._bounds)
        pending[0] += 1
        pending[1] += seconds
        pending[2 + bisect_left(self._bounds, seconds)] += 1  # the histogram's own rule: ≤

    def _children_of(self, key: tuple[str, str, int]) -> tuple[Any, Any]:
        """The labelled counter and histogram of (method, route, status)."""
        children = self._children.get(key)
        if children is None:
            method, route, status = key
            label = method if method in METHODS else "other"
            children = (
                self.requests.labels(label, route, str(status)),
                self.latency.labels(route),
            )
            if method in METHODS:  # other methods are not worth a cache entry each
                self._children[key] = children
        return children

    def _add_pending(self) -> None:
        """Add the requests counted since the last call to the counter and the histogram. The
        histogram takes them as its `observe` would, bucket by bucket: its values (`_sum`,
        `_buckets`, each a prometheus_client value with `inc`) are not public API, and
        tests/server/test_ops.py holds the scrape to what `observe` gives."""
        pending, self._pending = self._pending, {}
        for key, (count, total, *buckets) in pending.items():
            counter, histogram = self._children_of(key)
            counter.inc(count)
            histogram._sum.inc(total)
            for i, n in enumerate(buckets):
                if n:
                    histogram._buckets[i].inc(n)

    def render(self) -> bytes:
        self.sync()
        return generate_latest(self.exposed)


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics: the Prometheus text format (0.0.4)."""
    metrics: Metrics = request.app.state.metrics
    return Response(
        metrics.render(),
        media_type=CONTENT_TYPE_PLAIN_0_0_4,
        headers={"Cache-Control": "no-store"},
    )
