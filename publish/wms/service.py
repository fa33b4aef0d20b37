"""The MapProxy apps of the release being served, one pair per audience, built on first use.

A pair: the app as MapProxy builds it (WMS and WMS-style KVP at /wms, RESTful WMTS at /wmts/…)
and a second app over the same services where /wmts answers KVP WMTS
(`/wmts?SERVICE=WMTS&REQUEST=GetCapabilities`), so both WMTS encodings live under /wmts.

Caches are keyed by release id (<data>/raster/<release>/<audience>/, in the server's data folder): when a request
arrives for a newer release than the apps were built for, the apps are dropped, new ones are
built for it, and the caches of every other release are deleted. A request still running on an
older release gets apps built for it alone (not kept), so it never reads the new release's
cache, nor the new release its.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from publish.wms.config import prune_caches, release_config

log = logging.getLogger("publish.wms")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class MapProxyApps:
    """One audience's MapProxy for one release."""

    release_id: str
    audience: str
    config: Path
    app: WSGIApp  # /wms (WMS, KVP) and /wmts/… (RESTful WMTS)
    kvp: WSGIApp  # /wmts?SERVICE=WMTS… (KVP WMTS)


def build_apps(
    data_dir: Path, release_root: Path, audience: str, template: Path | None
) -> MapProxyApps:
    """Generate the configuration and load it into MapProxy."""
    from mapproxy.config.loader import load_configuration
    from mapproxy.wsgiapp import MapProxyApp

    from publish.wms.servers import harden
    from publish.wms.source import register

    register()
    config = release_config(data_dir, release_root, audience, template)
    conf = load_configuration(mapproxy_conf=str(config), ignore_warnings=True)
    # MapProxy's 'debug mode' only decides what happens to an exception inside a request:
    # raised to the WSGI caller (publish.wms.routes answers it as any other of our failures)
    # rather than logged with the whole query string and answered in plain text
    conf.base_config.debug_mode = True
    services = conf.configured_services()
    harden(services)
    app = MapProxyApp(services, conf.base_config)
    kvp = MapProxyApp(services, conf.base_config)
    kvp.handlers["wmts"] = kvp.handlers["service"]  # the OWS dispatcher: SERVICE=WMTS → KVP
    return MapProxyApps(Path(release_root).name, audience, config, app, kvp)


class MapProxyRegistry:
    """The apps of the newest release seen, per audience; thread-safe."""

    def __init__(self, data_dir: Path, template: Path | None = None) -> None:
        self.data_dir = Path(data_dir)  # the server's data folder (Settings.data_dir)
        self.template = template  # the MapProxy template (None: the package's)
        self._release: tuple[str, datetime] | None = None
        self._apps: dict[str, MapProxyApps] = {}
        self._lock = threading.Lock()

    def apps(self, release_id: str, loaded_at: datetime, root: Path, audience: str) -> MapProxyApps:
        with self._lock:
            current = self._release
            if current is None or (release_id != current[0] and loaded_at >= current[1]):
                self._release = (release_id, loaded_at)
                self._apps = {}
                removed = prune_caches(self.data_dir, keep={release_id})
                if removed:
                    log.info("raster caches of releases %s removed", ", ".join(removed))
            elif release_id != current[0]:  # a request that began on an older release
                return build_apps(self.data_dir, root, audience, self.template)
            found = self._apps.get(audience)
            if found is None:
                found = build_apps(self.data_dir, root, audience, self.template)
                self._apps[audience] = found
            return found
