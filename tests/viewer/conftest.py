"""Fixtures of the viewer's browser tests: one server on the session's full release, one Chromium
(Debian's, driven by Playwright for Python) for the module, a fresh page (context) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from publish.server.auth import append_token_hash, new_token
from publish.viewer import STATIC_DIR
from support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.viewer.browser import RECORD_CSP_VIOLATIONS, Server, serve

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult


@pytest.fixture(scope="session")
def viewer_server(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    assert (STATIC_DIR / "index.html").is_file(), (
        "the viewer is not built: `make install` builds web/ into publish/viewer/static"
    )
    root = tmp_path_factory.mktemp("viewer")
    token = new_token()
    append_token_hash(root / "tokens", token)
    with serve(full_release.path.parents[1], root / "tokens", token, root / "serve.log") as server:
        yield server


# Package scope: one Chromium for the package whose conftest registers the fixture (tests/viewer,
# and tests/dashboard, which imports it), stopped when that package's tests end. Playwright's sync
# API holds an asyncio loop on the main thread while it runs: a browser kept for the session broke
# every later test that runs an event loop (anyio.run, asyncio.run) and a second sync_playwright().
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages in a fresh context (own storage), closed after the test."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800, **options: Any) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return tmp_path
