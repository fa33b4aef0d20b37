"""MapProxy's WMS and WMTS services with the checks they lack, so that a client's mistake is a
service exception (400) in the format the client asked for, never a 500:

- GetFeatureInfo: QUERY_LAYERS is checked like LAYERS (MapProxy looks for it on the request
  rather than on its parameters and never checks it: KeyError), the clicked pixel must lie in
  the image (InvalidPoint), INFO_FORMAT must be one the capabilities offer (InvalidFormat);
- GetLegendGraphic: FORMAT must be an image format of the service or JSON (InvalidFormat);
- version negotiation works on a copy of the supported versions (MapProxy's pops them from the
  service's own list: two requests for an unsupported VERSION emptied it, and every request
  without VERSION failed from then on);
- WMTS GetFeatureInfo (KVP and RESTful): I and J must be a pixel of the tile
  (PointIJOutOfRange).

A layer the service does not have — never heard of, or another audience's — gets one answer
that does not echo the name: the public service cannot tell a client which internal layers
exist.

`harden` gives the services of a loaded configuration these classes. This module imports
MapProxy: import it only when MapProxy is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mapproxy.exception import RequestError
from mapproxy.request.wms import Version, mimetype_from_infotype, wms_request
from mapproxy.service.ows import OWSServer
from mapproxy.service.wms import WMSServer
from mapproxy.service.wmts import WMTSRestServer, WMTSServer

LEGEND_JSON = "application/json"
_DEFAULT_INFO_TYPES = ("text", "html", "xml")  # what MapProxy offers when none are configured
_WMS_130 = Version("1.3.0")


def unknown_layer(param: str) -> str:
    """The message for a layer this service does not have (the same for every such name)."""
    return f"{param} names a layer this service does not have (see GetCapabilities)"


class CheckedWMSServer(WMSServer):
    def parse_request(self, req: Any) -> Any:
        versions = list(self.versions) if self.versions else None
        return wms_request(req, strict=self.strict, versions=versions)

    def validate_layers(self, request: Any) -> None:
        params = request.params
        named = [("LAYERS", params.layers)]
        if hasattr(params, "query_layers"):
            named.append(("QUERY_LAYERS", params.query_layers))
        for param, layers in named:
            if any(layer not in self.layers for layer in layers):
                raise RequestError(unknown_layer(param), code="LayerNotDefined", request=request)

    def check_featureinfo_request(self, request: Any) -> None:
        super().check_featureinfo_request(request)
        params = request.params
        width, height = params.size
        x, y = params.pos
        if not (0 <= x < width and 0 <= y < height):
            names = "I and J" if request.version >= _WMS_130 else "X and Y"
            raise RequestError(
                f"{names} must be a pixel of the {width} x {height} image",
                code="InvalidPoint",
                request=request,
            )
        if "info_format" in params:
            offered = {
                mimetype_from_infotype(request.version, kind)
                for kind in (self.info_types or _DEFAULT_INFO_TYPES)
            }
            if params["info_format"] not in offered:
                raise RequestError(
                    f"INFO_FORMAT must be one of {', '.join(sorted(offered))}",
                    code="InvalidFormat",
                    request=request,
                )

    def check_legend_request(self, request: Any) -> None:
        if request.params.layer not in self.layers:
            raise RequestError(unknown_layer("LAYER"), code="LayerNotDefined", request=request)
        offered = [*self.image_formats, LEGEND_JSON]
        if request.params.format_mime_type not in offered:
            raise RequestError(
                f"FORMAT must be one of {', '.join(offered)}", code="InvalidFormat", request=request
            )


class _CheckedWMTS(WMTSServer):
    def check_request(self, request: Any, info_formats: Any = None) -> None:
        request.make_request()
        if request.layer not in self.layers:
            raise RequestError(
                unknown_layer("LAYER"),
                code="InvalidParameterValue",
                request=request,
                locator="layer",
            )
        super().check_request(request, info_formats)
        if info_formats is None:
            return
        width, height = self.layers[request.layer][request.tilematrixset].grid.tile_size
        i, j = request.pos
        if not (0 <= i < width and 0 <= j < height):
            raise RequestError(
                f"I and J must be a pixel of the {width} x {height} tile",
                code="PointIJOutOfRange",
                request=request,
                locator="i" if not 0 <= i < width else "j",
            )


class CheckedWMTSServer(_CheckedWMTS):
    """KVP WMTS."""


class CheckedWMTSRestServer(_CheckedWMTS, WMTSRestServer):
    """RESTful WMTS."""


_CHECKED: dict[type, type] = {
    WMSServer: CheckedWMSServer,
    WMTSServer: CheckedWMTSServer,
    WMTSRestServer: CheckedWMTSRestServer,
}


def harden(services: Iterable[Any]) -> None:
    """Give each WMS/WMTS service of `services` (as `configured_services()` returns them, the
    OWS dispatcher's included) its checked class. The classes only add checks, so the objects
    MapProxy built stay as they are."""
    for service in services:
        inner = service.services.values() if isinstance(service, OWSServer) else [service]
        for server in inner:
            checked = _CHECKED.get(type(server))
            if checked is not None:
                server.__class__ = checked
