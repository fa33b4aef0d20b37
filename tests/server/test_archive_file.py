"""The whole archive at /tiles/{audience}.pmtiles: Range → 206, If-Range, HEAD, 304, 416."""

from __future__ import annotations

import pytest

from publish.tiles.archive import Archive
from tests.server.helpers import Built, TestClient

URL = "/tiles/public.pmtiles"


def test_whole_archive(client: TestClient, built_releases: Built) -> None:
    data = built_releases.archive_path(built_releases.first, "public").read_bytes()
    r = client.get(URL)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "application/vnd.pmtiles"
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["cache-control"] == "public, no-cache"
    assert r.headers["etag"].startswith('"')


def test_range_gives_206_with_the_header_bytes(client: TestClient, built_releases: Built) -> None:
    path = built_releases.archive_path(built_releases.first, "public")
    data = path.read_bytes()
    r = client.get(URL, headers={"Range": "bytes=0-126"})
    assert r.status_code == 206
    assert r.content == data[:127]
    assert r.content.startswith(b"PMTiles\x03")
    assert r.headers["content-range"] == f"bytes 0-126/{len(data)}"
    assert r.headers["content-length"] == "127"
    # the root directory, where the header says it is
    with Archive(path) as archive:
        h = archive.header
    start, end = h["root_offset"], h["root_offset"] + h["root_length"] - 1
    root = client.get(URL, headers={"Range": f"bytes={start}-{end}"})
    assert root.status_code == 206 and root.content == data[start : end + 1]
    tail = client.get(URL, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]


def test_range_outside_the_file_is_416(client: TestClient, built_releases: Built) -> None:
    size = built_releases.archive_path(built_releases.first, "public").stat().st_size
    r = client.get(URL, headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.json()["code"] == "RangeNotSatisfiable"


@pytest.mark.parametrize(
    "value", ["pages=1-2", "bytes=5-1", "garbage", "bytes=a-b", "bytes=", "bytes=1-2-3"]
)
def test_malformed_range_is_ignored(client: TestClient, built_releases: Built, value: str) -> None:
    """RFC 9110 §14.2: a Range in another unit or not well formed is ignored: the whole file."""
    size = built_releases.archive_path(built_releases.first, "public").stat().st_size
    r = client.get(URL, headers={"Range": value})
    assert r.status_code == 200
    assert len(r.content) == size and "content-range" not in r.headers


@pytest.mark.parametrize(
    ("value", "length"), [("bytes= 0-3 ", 4), ("bytes=,0-3", 4), ("bytes=-1", 1)]
)
def test_well_formed_range_with_spaces_and_empty_elements(
    client: TestClient, value: str, length: int
) -> None:
    r = client.get(URL, headers={"Range": value})
    assert r.status_code == 206 and len(r.content) == length


def test_suffix_of_nothing_is_416(client: TestClient) -> None:
    assert client.get(URL, headers={"Range": "bytes=-0"}).status_code == 416


def test_if_range(client: TestClient, built_releases: Built) -> None:
    size = built_releases.archive_path(built_releases.first, "public").stat().st_size
    etag = client.head(URL).headers["etag"]
    same = client.get(URL, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and len(same.content) == 10
    changed = client.get(URL, headers={"Range": "bytes=0-9", "If-Range": '"another"'})
    assert changed.status_code == 200 and len(changed.content) == size


def test_head_and_if_none_match(client: TestClient, built_releases: Built) -> None:
    size = built_releases.archive_path(built_releases.first, "public").stat().st_size
    head = client.head(URL)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(size)
    head_range = client.head(URL, headers={"Range": "bytes=0-99"})
    assert head_range.status_code == 206 and head_range.headers["content-length"] == "100"
    again = client.get(URL, headers={"If-None-Match": head.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_internal_archive_needs_a_token(
    client: TestClient, auth: dict[str, str], built_releases: Built
) -> None:
    assert client.get("/tiles/internal.pmtiles", headers={"Range": "bytes=0-9"}).status_code == 401
    r = client.get("/tiles/internal.pmtiles", headers={"Range": "bytes=0-126", **auth})
    assert r.status_code == 206
    assert r.headers["cache-control"] == "private, no-cache"
    data = built_releases.archive_path(built_releases.first, "internal").read_bytes()
    assert r.content == data[:127]


def test_unknown_archive_is_404(client: TestClient) -> None:
    r = client.get("/tiles/spxm.pmtiles")
    assert r.status_code == 404
    assert r.json() == {"code": "NotFound", "type": "NotFound", "description": "not found"}
