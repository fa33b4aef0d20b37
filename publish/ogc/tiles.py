"""pygeoapi tile provider on a release's PMTiles archive: one collection = one archive layer.

Configured as (publish.ogc.config writes it):

    type: tile
    name: publish.ogc.tiles.PMTilesProvider
    data: /…/tiles/public.pmtiles     # the server makes the release-relative path absolute
    options: {layer: stbhhx, zoom: {min: 0, max: 15}, schemes: [WebMercatorQuad]}
    format: {name: pbf, mimetype: application/vnd.mapbox-vector-tile}

The archive holds all of an audience's layers in every tile. A collection's tile keeps only the
collection's layer (`publish.tiles.mvt.layer_tile` copies that layer's bytes; a tile holding
nothing else goes out as stored). `tile()` returns the result compressed as stored, for our server, which sends
it with Content-Encoding; `get_tiles()` (pygeoapi's interface) returns plain MVT bytes, because
pygeoapi's handler sends no Content-Encoding. Only WebMercatorQuad exists (what PMTiles holds);
OGC API Tiles paths are {tileMatrix}/{tileRow}/{tileCol}, i.e. z/y/x.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from pygeoapi.models.provider.base import TileMatrixSetEnum, TileMatrixSetEnumType
from pygeoapi.provider.base import ProviderConnectionError, ProviderInvalidQueryError
from pygeoapi.provider.base_mvt import BaseMVTProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError, ProviderTilesetIdNotFoundError

from publish.filecache import FileCache
from publish.tiles.archive import Archive, ArchiveError, TileResult, TileStatus
from publish.tiles.mvt import decompress, layer_tile
from publish.tiles.tilejson import build_tilejson, with_tiles

log = logging.getLogger("publish.ogc")

WEB_MERCATOR_QUAD = "WebMercatorQuad"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_TILEJSON_FIELD_TYPES = {"String": "string", "Number": "number", "Boolean": "boolean"}

# Shared by every provider (pygeoapi makes one per request) and every release's OgcService.
_ARCHIVES: FileCache[Archive] = FileCache(Archive)


def open_archive(path: str) -> Archive:
    """The shared open `Archive` for the file at `path` (OSError or ArchiveError)."""
    return _ARCHIVES.get(path)


def _tile_index(value: Any, what: str) -> int:
    text = str(value)
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise ProviderInvalidQueryError(user_msg=f"{what} must be a non-negative integer")
    return int(text)


def _tile_range(lon0: float, lat0: float, lon1: float, lat1: float, z: int) -> dict[str, Any]:
    """TileMatrixSetLimits of a lon/lat box at zoom z (WebMercatorQuad)."""
    n = 1 << z

    def col(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def row(lat: float) -> int:
        lat = max(min(lat, 85.0511287798), -85.0511287798)
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
        return min(n - 1, max(0, int(y)))

    return {
        "tileMatrix": str(z),
        "minTileRow": row(lat1),
        "maxTileRow": row(lat0),
        "minTileCol": col(lon0),
        "maxTileCol": col(lon1),
    }


class PMTilesProvider(BaseMVTProvider):
    """The tiles of one layer (option `layer`) of a PMTiles archive."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        options = dict(self.options or {})
        self.layer = str(options.get("layer") or "")
        if not self.layer:
            raise ProviderConnectionError(user_msg="the tile provider needs options.layer")
        try:
            self.archive = open_archive(str(self.data))
            layers = self.archive.vector_layers()
        except (OSError, ArchiveError, ValueError) as exc:
            log.error("%s: %s", self.data, exc)
            raise ProviderConnectionError(str(exc)) from exc
        self.vector_layer: Mapping[str, Any] = layers.get(self.layer) or {}
        if not self.vector_layer:
            log.warning("%s holds no layer %r", self.data, self.layer)
        zoom = options.get("zoom") or {}
        self.minzoom = max(int(zoom.get("min", 0)), self.archive.minzoom)
        self.maxzoom = min(int(zoom.get("max", 30)), self.archive.maxzoom)
        self._service_url = ""
        self._service_metadata_url = ""

    def __repr__(self) -> str:
        return f"<PMTilesProvider {self.data}:{self.layer}>"

    def get_layer(self) -> str:
        return self.layer

    def get_fields(self) -> dict[str, dict[str, str]]:
        fields = self.vector_layer.get("fields") or {}
        return {
            str(name): {"type": _TILEJSON_FIELD_TYPES.get(str(kind), "string")}
            for name, kind in fields.items()
        }

    def get_tiling_schemes(self) -> list[TileMatrixSetEnumType]:
        return [TileMatrixSetEnum.WEBMERCATORQUAD.value]

    def get_tiles_service(
        self,
        baseurl: str | None = None,
        servicepath: str | None = None,
        dirpath: str | None = None,
        tile_type: str | None = None,
    ) -> dict[str, Any]:
        self._service_url = servicepath or ""
        links: dict[str, Any] = self.get_tms_links()
        return links

    # -- tiles -------------------------------------------------------------------------------

    def tile(self, tileset: str | None, z: Any, y: Any, x: Any) -> TileResult:
        """The collection's tile z/y/x, compressed as stored (see `tile_compression`)."""
        if tileset != WEB_MERCATOR_QUAD:
            raise ProviderTilesetIdNotFoundError(user_msg="no such tile matrix set")
        zi, yi, xi = (
            _tile_index(z, "tileMatrix"),
            _tile_index(y, "tileRow"),
            _tile_index(x, "tileCol"),
        )
        if zi > 30:
            return TileResult(TileStatus.NOT_FOUND)
        if xi >= 1 << zi or yi >= 1 << zi:
            raise ProviderInvalidQueryError(user_msg=f"tileRow and tileCol must be below {1 << zi}")
        if zi < self.minzoom or zi > self.maxzoom:
            return TileResult(TileStatus.NOT_FOUND)
        try:
            return layer_tile(self.archive, self.layer, zi, xi, yi)
        except ArchiveError as exc:
            log.error("%s tile %s/%s/%s: %s", self.data, zi, xi, yi, exc)
            raise ProviderConnectionError(str(exc)) from exc

    @property
    def tile_compression(self) -> str | None:
        """The Content-Encoding of what `tile()` returns."""
        compression: str | None = self.archive.tile_compression
        return compression

    def get_tiles(
        self,
        layer: str | None = None,
        tileset: str | None = None,
        z: Any = None,
        y: Any = None,
        x: Any = None,
        format_: str | None = None,
    ) -> bytes | None:
        """Plain MVT bytes; None for an empty tile; ProviderTileNotFoundError outside."""
        result = self.tile(tileset, z, y, x)
        if result.status is TileStatus.NOT_FOUND:
            raise ProviderTileNotFoundError(user_msg="no tile here")
        if result.status is not TileStatus.OK or result.data is None:
            return None
        return decompress(result.data, self.archive.tile_compression)

    # -- metadata ----------------------------------------------------------------------------

    def _tile_url(self, server_url: str, dataset: str, tileset: str, xyz: bool = False) -> str:
        path = "{z}/{y}/{x}" if xyz else "{tileMatrix}/{tileRow}/{tileCol}"
        return f"{server_url}/collections/{dataset}/tiles/{tileset}/{path}?f=mvt"

    def get_metadata(
        self,
        dataset: str,
        server_url: str,
        layer: str | None = None,
        tileset: str | None = None,
        metadata_format: str | None = None,
        title: str | None = None,
        description: str | None = None,
        keywords: list[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Tile set metadata (JSON, the default), TileJSON 3.0.0, or the HTML page's data."""
        tileset = tileset or WEB_MERCATOR_QUAD
        if tileset != WEB_MERCATOR_QUAD:
            raise ProviderTilesetIdNotFoundError(user_msg="no such tile matrix set")
        fmt = (metadata_format or "json").lower()
        if fmt == "tilejson":
            return self.tilejson(dataset, server_url, tileset, title, description)
        if fmt == "html":
            base = f"{server_url}/collections/{dataset}/tiles/{tileset}"
            return {
                "id": dataset,
                "title": title,
                "tileset": tileset,
                "collections_path": self._tile_url(server_url, dataset, tileset),
                "json_url": f"{base}/metadata?f=json",
                "tilejson_url": f"{base}/metadata?f=tilejson",
                "metadata": self.tilejson(dataset, server_url, tileset, title, description),
            }
        return self.tileset_metadata(dataset, server_url, tileset, title, description, keywords)

    def tilejson(
        self,
        dataset: str,
        server_url: str,
        tileset: str,
        title: str | None,
        description: str | None,
    ) -> dict[str, Any]:
        """TileJSON 3.0.0 for MapLibre and friends (`tiles` is a list, {z}/{y}/{x} order in the
        OGC path)."""
        doc = build_tilejson(
            self.archive,
            layers=(self.layer,),
            zooms=(self.minzoom, self.maxzoom),
            name=title or dataset,
            description=description or "",
        )
        return with_tiles(doc, self._tile_url(server_url, dataset, tileset, xyz=True))

    def tileset_metadata(
        self,
        dataset: str,
        server_url: str,
        tileset: str,
        title: str | None,
        description: str | None,
        keywords: list[str] | None,
    ) -> dict[str, Any]:
        """OGC API Tiles tile set metadata."""
        scheme = TileMatrixSetEnum.WEBMERCATORQUAD.value
        lon0, lat0, lon1, lat1 = self.archive.bounds
        doc: dict[str, Any] = {
            "title": title or dataset,
            "description": description or "",
            "dataType": "vector",
            "crs": scheme.crs,
            "tileMatrixSetURI": scheme.tileMatrixSetURI,
            "tileMatrixSetLimits": [
                _tile_range(lon0, lat0, lon1, lat1, z)
                for z in range(self.minzoom, self.maxzoom + 1)
            ],
            "boundingBox": {"lowerLeft": [lon0, lat0], "upperRight": [lon1, lat1], "crs": CRS84},
            "layers": [
                {
                    "id": self.layer,
                    "dataType": "vector",
                    "minTileMatrix": str(self.minzoom),
                    "maxTileMatrix": str(self.maxzoom),
                    "propertiesSchema": {"type": "object", "properties": self.get_fields()},
                }
            ],
            "links": [
                {
                    "href": f"{server_url}/TileMatrixSets/{tileset}",
                    "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                    "type": "application/json",
                    "title": f"{tileset} tile matrix set definition",
                },
                {
                    "href": self._tile_url(server_url, dataset, tileset),
                    "rel": "item",
                    "type": MVT_MEDIA_TYPE,
                    "title": f"{tileset} vector tiles for {self.layer}",
                    "templated": True,
                },
            ],
        }
        if keywords:
            doc["keywords"] = list(keywords)
        return doc
