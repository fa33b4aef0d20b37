"""The OpenAPI document of an audience's OGC API, as served at …/openapi.

pygeoapi's `get_oas` writes the document from the configuration, not from what this server
routes, and points ~400 `$ref`s at schemas.opengis.net (and one at GitHub). `served_document`
turns it into the document clients get:

- only the operations the routes answer: a path and method stay when one of the audience's
  routes matches them (pygeoapi also lists `/jobs…` and OPTIONS operations, which are 404/405
  here);
- what it leaves out is added: a collection's tileset (`…/tiles/{tileMatrixSetId}`, and its
  `/metadata` alias) and the tile matrix sets (`_add_tiling`);
- the responses pygeoapi misdescribes are corrected (`_correct`);
- self-contained: every external `$ref` is resolved from the OGC documents shipped with the
  package (publish/ogc/schemas/, see its README for sources and licence) and copied into
  `components` under a name prefixed with its standard (`features-1.link`), so the document
  works offline; then whatever no operation refers to is dropped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urldefrag, urljoin

import yaml
from starlette.routing import BaseRoute, Match

from publish.errors import PublishError

# Where the OGC documents pygeoapi refers to are shipped: URL prefix → folder under schemas/
# (the rest of the URL is the file's path below it). The folder names prefix component names.
SHIPPED: Mapping[str, str] = {
    "https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/": "features-1",
    "https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/": "processes-1",
    "https://schemas.opengis.net/ogcapi/tiles/part1/1.0/openapi/": "tiles-1",
    "https://raw.githubusercontent.com/opengeospatial/ogcapi-records/master/core/openapi/": (
        "records"
    ),
}
FEATURES = "https://schemas.opengis.net/ogcapi/features/part1/1.0/openapi/ogcapi-features-1.yaml"
TILES = "https://schemas.opengis.net/ogcapi/tiles/part1/1.0/openapi/ogcapi-tiles-1.yaml"

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMPONENT_KINDS = ("schemas", "responses", "parameters", "examples", "requestBodies", "headers")
_PLACEHOLDER = re.compile(r"\{[^}/]+\}")

# OGC API - Features - Part 3 (queryables) and Part 5 (schemas): the response is a JSON Schema of
# the features, served as application/schema+json (pygeoapi documents a `queryables` list).
_JSON_SCHEMA_RESPONSE: dict[str, Any] = {
    "description": "A JSON Schema of the collection's features (its queryables, or its schema)",
    "content": {
        "application/schema+json": {
            "schema": {
                "type": "object",
                "required": ["type", "properties"],
                "properties": {
                    "$schema": {"type": "string"},
                    "$id": {"type": "string"},
                    "type": {"type": "string", "enum": ["object"]},
                    "properties": {"type": "object"},
                },
            }
        },
        "text/html": {"schema": {"type": "string"}},
    },
}


# OGC API – Features Part 3 filtering and free-text search (publish.ogc.cql, publish.ogc.where),
# which pygeoapi's document does not list. `cql-text` is the draft's name for CQL2 text, which
# pygeoapi and GDAL's OAPIF driver (up to 3.7: it looks for it here) send.
FILTER_PARAMETERS: dict[str, Any] = {
    "filter": {
        "name": "filter",
        "in": "query",
        "description": "A CQL2 filter (cql2-text, or cql2-json with filter-lang)",
        "required": False,
        "schema": {"type": "string"},
        "style": "form",
        "explode": False,
    },
    "filter-lang": {
        "name": "filter-lang",
        "in": "query",
        "description": "The language of `filter`: cql2-text (the default) or cql2-json",
        "required": False,
        "schema": {
            "type": "string",
            "enum": ["cql2-text", "cql2-json", "cql-text"],
            "default": "cql2-text",
        },
        "style": "form",
        "explode": False,
    },
    "filter-crs": {
        "name": "filter-crs",
        "in": "query",
        "description": "The CRS of the geometries in `filter` (one the collection offers)",
        "required": False,
        "schema": {"type": "string", "format": "uri"},
        "style": "form",
        "explode": False,
    },
    "q": {
        "name": "q",
        "in": "query",
        "description": "Search terms, separated by commas: the features whose name (or, on a "
        "land-use layer, whose class name) contains any of them",
        "required": False,
        "schema": {"type": "string"},
        "style": "form",
        "explode": False,
    },
}


class OpenApiError(PublishError):
    """The generated OpenAPI document refers to a schema this package does not ship."""


def served_document(
    document: Mapping[str, Any], routes: Sequence[BaseRoute], locale: Any = None
) -> dict[str, Any]:
    """pygeoapi's `document`, cut to the operations `routes` answer, corrected, self-contained.
    `locale` (the API's default, a babel Locale or language tag) picks the language of the
    multilingual `info` values pygeoapi leaves untranslated."""
    doc = copy.deepcopy(dict(document))
    _add_tiling(doc)
    _keep_served(doc, routes)
    _correct(doc, locale)
    doc = _Bundler(doc).bundle()
    _prune(doc)
    return doc


# -- what the routes answer ------------------------------------------------------------------


def answers(routes: Sequence[BaseRoute], template: str, method: str) -> bool:
    """Whether one of `routes` takes `method` on the path `template` ({name} = any segment)."""
    scope = {
        "type": "http",
        "path": _PLACEHOLDER.sub("0", template),
        "root_path": "",
        "method": method.upper(),
    }
    return any(route.matches(scope)[0] is Match.FULL for route in routes)


def _keep_served(doc: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    paths = doc.get("paths") or {}
    for template, item in list(paths.items()):
        for method in [m for m in item if m in METHODS]:
            if not answers(routes, template, method):
                del item[method]
        if not any(m in METHODS for m in item):
            del paths[template]


# -- what pygeoapi leaves out -----------------------------------------------------------------


def _operation(
    summary: str, operation_id: str, tags: list[str], parameters: list[Any], response: str
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "description": summary,
            "tags": tags,
            "operationId": operation_id,
            "parameters": parameters,
            "responses": {
                "200": {"$ref": f"{TILES}#/components/responses/{response}"},
                "400": {"$ref": f"{FEATURES}#/components/responses/InvalidParameter"},
                "404": {"$ref": f"{FEATURES}#/components/responses/NotFound"},
                "500": {"$ref": f"{FEATURES}#/components/responses/ServerError"},
            },
        }
    }


def _add_tiling(doc: dict[str, Any]) -> None:
    """OGC API - Tiles resources pygeoapi serves but does not document: a collection's tileset
    (and its `/metadata` alias), and the tile matrix sets. Added beside each collection's
    `…/tiles` (`_keep_served` then drops whatever the routes do not answer)."""
    paths = doc.get("paths") or {}
    bases = [
        p.removesuffix("/tiles") for p in paths if re.fullmatch(r"/collections/[^/]+/tiles", p)
    ]
    if not bases:
        return
    common = [{"$ref": "#/components/parameters/f"}, {"$ref": "#/components/parameters/lang"}]
    tms = [{"$ref": f"{TILES}#/components/parameters/tileMatrixSetId"}, *common]
    paths.setdefault(
        "/TileMatrixSets",
        _operation(
            "Tile matrix sets", "getTileMatrixSets", ["server"], common, "TileMatrixSetsList"
        ),
    )
    paths.setdefault(
        "/TileMatrixSets/{tileMatrixSetId}",
        _operation("A tile matrix set", "getTileMatrixSet", ["server"], tms, "TileMatrixSet"),
    )
    for base in bases:
        cid = base.removeprefix("/collections/")
        tags = paths[f"{base}/tiles"].get("get", {}).get("tags", [cid])
        for suffix, name in (("", "getTileSet"), ("/metadata", "getTileSetMetadata")):
            paths.setdefault(
                f"{base}/tiles/{{tileMatrixSetId}}{suffix}",
                _operation(
                    f"{cid}: tileset", f"{cid}.collection.vector.{name}", tags, tms, "TileSet"
                ),
            )


# -- corrections -----------------------------------------------------------------------------


def _correct(doc: dict[str, Any], locale: Any) -> None:
    """Describe the responses as the server sends them (pygeoapi 0.21 gets these wrong)."""
    # `info.contact` keeps the configuration's {language: text} values, which OpenAPI does not
    # allow (pygeoapi translates title and description only)
    if locale is not None and isinstance(doc.get("info"), dict):
        from pygeoapi import l10n

        doc["info"] = l10n.translate_struct(doc["info"], locale)
    paths = doc.get("paths") or {}
    # /conformance and /collections are documented as the landing page
    for template, response in (
        ("/conformance", "ConformanceDeclaration"),
        ("/collections", "Collections"),
    ):
        get = paths.get(template, {}).get("get")
        if get is not None:
            get["responses"]["200"] = {"$ref": f"{FEATURES}#/components/responses/{response}"}
    components = doc.setdefault("components", {})
    responses = components.setdefault("responses", {})
    # A collection's tiles: an OGC API - Tiles 1.0 list of tilesets (`tilesets`), where
    # pygeoapi's component is a draft's `tileMatrixSetLinks`.
    for holder in _ref_holders(paths):
        if holder["$ref"] == "#/components/responses/Tiles":
            holder["$ref"] = f"{TILES}#/components/responses/TileSetsList"
    # Queryables and schema: a JSON Schema (application/schema+json), not a list
    if "Queryables" in responses:
        responses["Queryables"] = copy.deepcopy(_JSON_SCHEMA_RESPONSE)
    # Items: filter, filter-lang, filter-crs and q
    components.setdefault("parameters", {}).update(copy.deepcopy(FILTER_PARAMETERS))
    for template, item in paths.items():
        get = item.get("get") if template.endswith("/items") else None
        if isinstance(get, dict):
            get.setdefault("parameters", []).extend(
                {"$ref": f"#/components/parameters/{name}"} for name in FILTER_PARAMETERS
            )


# -- external references ---------------------------------------------------------------------


def _folder(url: str) -> tuple[str, str]:
    """(folder under schemas/, path below it) of a shipped document's URL."""
    for prefix, folder in SHIPPED.items():
        if url.startswith(prefix):
            return folder, url[len(prefix) :]
    raise OpenApiError(f"the OpenAPI document refers to {url}, which is not shipped")


@cache
def _shipped(url: str) -> Any:
    """The shipped document for the absolute `url` (no fragment)."""
    folder, rest = _folder(url)
    path = resources.files("publish.ogc").joinpath("schemas", folder, *rest.split("/"))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OpenApiError(f"the OpenAPI document refers to {url}, which is not shipped") from None


def _pointer(document: Any, fragment: str, url: str) -> Any:
    node = document
    for token in [t for t in fragment.split("/") if t]:
        token = token.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise OpenApiError(f"{url}#{fragment} does not exist") from None
    return node


class _Bundler:
    """Copies every external `$ref` target into the document's components."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.components: dict[str, Any] = doc.setdefault("components", {})
        self.local: dict[str, str] = {}  # absolute reference → local reference

    def bundle(self) -> dict[str, Any]:
        self._rewrite(self.doc, base=None)
        return self.doc

    def _rewrite(self, node: Any, base: str | None) -> None:
        for holder in _ref_holders(node):
            ref = holder["$ref"]
            target = urljoin(base, ref) if base is not None else ref
            if target.startswith("#"):
                continue  # already local to the served document
            holder["$ref"] = self._local(target)

    def _local(self, reference: str) -> str:
        known = self.local.get(reference)
        if known is not None:
            return known
        url, fragment = urldefrag(reference)
        kind, name = _component_name(url, fragment)
        local = f"#/components/{kind}/{name}"
        self.local[reference] = local  # before copying: the target may refer to itself
        target = copy.deepcopy(_pointer(_shipped(url), fragment, url))
        self.components.setdefault(kind, {})[name] = target
        self._rewrite(target, base=url)
        return local


def _component_name(url: str, fragment: str) -> tuple[str, str]:
    """(kind, name) of the component an external reference becomes."""
    folder, _ = _folder(url)
    parts = [t for t in fragment.split("/") if t]
    if len(parts) == 3 and parts[0] == "components" and parts[1] in COMPONENT_KINDS:
        return parts[1], f"{folder}.{parts[2]}"
    if not parts:  # a whole file: its folder says what it holds (schemas/, responses/, …)
        segments = url.split("/")
        kind, stem = segments[-2], segments[-1].rsplit(".", 1)[0]
        if kind in COMPONENT_KINDS:
            return kind, f"{folder}.{stem}"
    raise OpenApiError(f"cannot place {url}#{fragment} among the document's components")


def _ref_holders(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping with a string `$ref` under `node`."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if isinstance(current.get("$ref"), str):
                yield current
            stack.extend(v for k, v in current.items() if k != "$ref")
        elif isinstance(current, list):
            stack.extend(current)


# -- pruning ---------------------------------------------------------------------------------


def _prune(doc: dict[str, Any]) -> None:
    """Drop the components and tags no operation leads to."""
    components = doc.get("components") or {}
    reachable: set[str] = set()
    pending = [r["$ref"] for r in _ref_holders(doc.get("paths") or {})]
    while pending:
        ref = pending.pop()
        if ref in reachable or not ref.startswith("#/components/"):
            continue
        reachable.add(ref)
        _, _, kind, name = ref.split("/", 3)
        pending.extend(r["$ref"] for r in _ref_holders(components.get(kind, {}).get(name)))
    for kind in list(components):
        if not isinstance(components[kind], dict):
            continue
        for name in list(components[kind]):
            if f"#/components/{kind}/{name}" not in reachable:
                del components[kind][name]
        if not components[kind]:
            del components[kind]
    used = {
        tag
        for item in (doc.get("paths") or {}).values()
        for method, operation in item.items()
        if method in METHODS
        for tag in operation.get("tags", [])
    }
    if "tags" in doc:
        doc["tags"] = [t for t in doc["tags"] if t.get("name") in used]
