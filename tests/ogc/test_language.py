"""Every browser language gets an answer (issue 16: zh-TW, fr-FR, ja and `*` were 500s)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from publish.ogc.language import choose_language

SERVED = ["zh-CN", "en-US"]


@pytest.mark.parametrize(
    ("lang", "accept", "chosen"),
    [
        (None, None, "zh-CN"),
        (None, "zh-TW,zh;q=0.9,en-US;q=0.8", "zh-CN"),
        (None, "zh-HK", "zh-CN"),
        (None, "zh-Hant-TW", "zh-CN"),
        (None, "fr-FR,fr;q=0.9", "zh-CN"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "en-US"),
        (None, "ja", "zh-CN"),
        (None, "*", "zh-CN"),
        (None, "en-GB", "en-US"),
        (None, "de;q=0.9,en;q=0.95,zh;q=0.1", "en-US"),
        (None, "en;q=0, zh", "zh-CN"),
        (None, "en;q=abc,fr", "zh-CN"),
        (None, ";;;,,,", "zh-CN"),
        ("fr", "en", "en-US"),
        ("en", "zh-CN", "en-US"),
        ("zh", "en", "zh-CN"),
        ("", "en", "en-US"),
    ],
)
def test_choose_language(lang: str | None, accept: str | None, chosen: str) -> None:
    assert choose_language(lang, accept, SERVED) == chosen


BROWSERS = ["zh-TW,zh;q=0.9,en-US;q=0.8", "zh-HK", "fr-FR,fr;q=0.9", "ja", "*", "en-GB,en"]
PATHS = [
    "/",
    "/collections",
    "/collections/stbhhx",
    "/collections/stbhhx/items?limit=2",
    "/collections/stbhhx/items/1",
    "/collections/stbhhx/queryables",
    "/conformance",
    "/processes",
    "/processes/site-check",
]


@pytest.mark.parametrize("accept", BROWSERS)
@pytest.mark.parametrize("mount", ["/ogc", "/internal/ogc"])
def test_every_ogc_endpoint_answers_every_browser(
    client: TestClient, auth: dict[str, str], mount: str, accept: str
) -> None:
    expected = "en" if accept.startswith("en") else "zh"
    for path in PATHS:
        for fmt in ("json", "html"):
            sep = "&" if "?" in path else "?"
            r = client.get(
                f"{mount}{path}{sep}f={fmt}", headers={**auth, "Accept-Language": accept}
            )
            assert r.status_code == 200, (path, fmt, r.text[:200])
            assert r.headers["content-language"].startswith(expected), path


@pytest.mark.parametrize("lang", ["fr", "ja", "zh-TW", "xx-invalid", "", "en"])
def test_lang_parameter(client: TestClient, lang: str) -> None:
    r = client.get(f"/ogc/collections?lang={lang}&f=json")
    assert r.status_code == 200, r.text[:200]
    expected = "en" if lang == "en" else "zh"
    assert r.headers["content-language"].startswith(expected)


def test_site_check_in_a_foreign_browser(client: TestClient) -> None:
    body = {
        "inputs": {"geometry": {"type": "Point", "coordinates": [110.48, 29.13]}, "buffer_m": 100}
    }
    for accept in BROWSERS:
        r = client.post(
            "/ogc/processes/site-check/execution", json=body, headers={"Accept-Language": accept}
        )
        assert r.status_code == 200, (accept, r.text[:200])
        assert r.json()["verdict"] in ("prohibited", "review", "conforming")


def test_internal_collection_page_after_public_pages(
    client: TestClient, auth: dict[str, str]
) -> None:
    """pygeoapi kept the first configuration it rendered an HTML page with, per language, for
    every later page: an internal collection's page after a public one was a 500, and pages
    linked to the other audience's mount."""
    for accept in ("zh-CN", "en"):
        headers = {**auth, "Accept-Language": accept}
        public = client.get("/ogc/collections/stbhhx?f=html", headers=headers)
        internal = client.get("/internal/ogc/collections/spxm?f=html", headers=headers)
        again = client.get("/ogc/collections/stbhhx?f=html", headers=headers)
        assert (public.status_code, internal.status_code, again.status_code) == (200, 200, 200)
        assert "/internal/ogc/collections/spxm" in internal.text
        assert "/internal/ogc" not in again.text and "spxm" not in again.text
