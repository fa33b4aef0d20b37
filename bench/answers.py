"""The OGC API answers of two checkouts of the server, compared path by path (before/after a change).

    .venv/bin/python bench/answers.py --tiles T --base /tmp/base --paths WORK/cql-ours.txt

Starts `python -m publish serve` (uvicorn, 1 worker) from the checkout `--base` (e.g.
`git archive main | tar -x -C /tmp/base`) and from this one, on the same release, asks both the
same paths and compares status, body and headers. The paths: the first `--count` lines of
`--paths` (bench/serve.py --work DIR writes DIR/cql-ours.txt), some of them again with `offset`,
`crs`, `skipGeometry`, `properties`, `sortby` and as HTML, JSON-LD and CSV; 0.01° bbox pages,
plain pages, single items, `q`, a cql2-json filter, bad filters (400) and a conditional request.

Bodies are compared with their `timeStamp` (pygeoapi's time of the answer) blanked and each
server's own URL (they run on two ports) replaced; headers all but Date, Server, Content-Length,
X-Request-ID and ETag. ETags are counted apart (how many answers have one, on each side): a
change may drop them on purpose. Exits 1 when an answer differs, printing the first differences.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.serve import FEATURE_LAYER, LIMIT, ours, random_boxes  # noqa: E402

TIMESTAMP = re.compile(rb'"timeStamp"\s*:\s*"[^"]*"')
IGNORED_HEADERS = frozenset({"date", "server", "content-length", "etag", "x-request-id"})
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
SHOWN = 10  # differences printed


def variants(paths: Sequence[str]) -> Iterator[str]:
    """Each path, and some of them again with the items parameters and formats that change
    the answer's making (every fifth of the first fifty: all kinds of selection)."""
    for index, path in enumerate(paths):
        yield path
        if index >= 50 or index % 5 not in (0, 3):
            continue
        yield path + "&offset=100"
        yield path + f"&crs={quote(EPSG_4490, safe='')}"
        yield path + "&skipGeometry=true"
        yield path + "&properties=MJ"
        yield path + "&sortby=-MJ"
        for fmt in ("html", "jsonld", "csv"):
            yield path.replace("f=json", f"f={fmt}")


def extra_paths(tiles: Path) -> list[str]:
    """Paths beside the selections: bbox pages, plain pages, items, q, cql2-json, bad input."""
    items = f"/ogc/collections/{FEATURE_LAYER}/items"
    gpkg = tiles / "current" / "features" / "public.gpkg"
    out = [f"{items}?bbox={box}&limit={LIMIT}&f=json" for box in random_boxes(gpkg, 20, 11)]
    box = random_boxes(gpkg, 1, 12)[0]
    out += [
        f"{items}?bbox={box}&limit={LIMIT}&f=html",
        f"{items}?bbox={box}&limit={LIMIT}&f=jsonld",
        f"{items}?bbox={box}&limit={LIMIT}&f=csv",
        f"{items}?bbox={box}&limit={LIMIT}",  # no f: negotiated
        f"{items}?limit=1&f=json",
        f"{items}?limit=10&offset=500000&f=json",
        f"{items}?limit=5&DLBM=0101&f=json",
        f"{items}/1?f=json",
        f"{items}/1?f=html",
        f"{items}/999999999?f=json",
        "/ogc/collections/ydyh/items?limit=20&q=%E4%BD%8F%E5%AE%85&f=json",
        "/ogc/collections/xzq_xian/items?f=json",
        "/ogc/collections/xzq_xian/items?f=json&lang=en",
        f"{items}?limit=10&filter-lang=cql2-json&f=json&filter="
        + quote('{"op":"in","args":[{"property":"DLBM"},["0101","0301"]]}', safe=""),
        f"{items}?limit=10&f=json&filter=" + quote("DLBM = ", safe=""),
        f"{items}?limit=10&f=json&filter=" + quote("NOPE = 1", safe=""),
        f"{items}?limit=10&f=json&filter-lang=cql9&filter=" + quote("MJ > 1", safe=""),
        "/ogc/collections/dltb/queryables?f=json",
        "/ogc/collections/dltb?f=json",
        "/ogc/conformance?f=json",
    ]
    return out


def blanked(body: bytes, url: str) -> bytes:
    """The body without its timeStamp, the server's own URL (each runs on its port) as HOST."""
    return TIMESTAMP.sub(b'"timeStamp":""', body).replace(url.encode(), b"HOST")


def compare(tiles: Path, base: Path, paths: Sequence[str]) -> int:
    import httpx

    differences: list[str] = []
    etags = {"base": 0, "this": 0}
    with ExitStack() as stack:
        logs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="answers-")))
        urls = {}
        for name, source in (("base", base), ("this", REPO)):
            port, server = ours(tiles, 1, logs / f"{name}.log", log_level="warning", source=source)
            stack.enter_context(server)
            urls[name] = f"http://127.0.0.1:{port}"
        clients = {
            name: stack.enter_context(httpx.Client(base_url=url, timeout=60))
            for name, url in urls.items()
        }
        for path in paths:
            got = {name: client.get(path) for name, client in clients.items()}
            a, b = got["base"], got["this"]
            tags = {name: r.headers.get("etag") for name, r in got.items()}
            etags["base"] += tags["base"] is not None
            etags["this"] += tags["this"] is not None
            if a.status_code != b.status_code:
                differences.append(f"{path}: status {a.status_code} → {b.status_code}")
            elif blanked(a.content, urls["base"]) != blanked(b.content, urls["this"]):
                differences.append(f"{path}: body ({len(a.content)} → {len(b.content)} bytes)")
            headers = [
                {k: v.replace(urls[name], "HOST") for k, v in r.headers.items()}
                for name, r in got.items()
            ]
            headers = [{k: v for k, v in h.items() if k not in IGNORED_HEADERS} for h in headers]
            if headers[0] != headers[1]:
                changed = sorted(set(headers[0].items()) ^ set(headers[1].items()))
                differences.append(f"{path}: headers {changed}")
        for name, client in clients.items():  # the last answer again, conditionally
            again = client.get(paths[-1], headers={"If-None-Match": tags[name] or '"none"'})
            print(f"{name}: {paths[-1]} again with If-None-Match: {again.status_code}")
    print(f"{len(paths)} paths compared; {len(differences)} differ")
    print(f"answers with an ETag: base {etags['base']}, this {etags['this']}")
    for line in differences[:SHOWN]:
        print("  " + line)
    return 1 if differences else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=Path, required=True, help="a built tiles folder")
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument("--paths", type=Path, required=True, help="request paths, one a line")
    parser.add_argument("--count", type=int, default=200, help="lines of --paths to ask")
    args = parser.parse_args(argv)
    lines = [x for x in args.paths.read_text("utf-8").splitlines() if x.strip()]
    paths = [*variants(lines[: args.count]), *extra_paths(args.tiles)]
    return compare(args.tiles, args.base, paths)


if __name__ == "__main__":
    sys.exit(main())
