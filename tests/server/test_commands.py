"""`serve` and `token new`, as the CLI runs them (uvicorn itself is replaced here; the real one
runs in test_uvicorn.py)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publish.server.auth import TokenStore
from publish.server.commands import APP_FACTORY, add_commands, main
from publish.server.settings import Settings
from tests.server.helpers import make_client


def test_add_commands_wires_into_a_parser() -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", "--tiles", "/srv/tiles", "--workers", "2"])
    assert args.tiles == "/srv/tiles" and args.workers == 2 and args.port == 8000
    assert args.host == "127.0.0.1" and callable(args.run)
    args = parser.parse_args(["token", "new", "--file", "/tmp/t"])
    assert args.file == "/tmp/t" and callable(args.run)
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--tiles", "x", "--workers", "0"])


def test_token_new_prints_a_token_that_works(
    tmp_path: Path, tiles_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = tmp_path / "new-tokens"
    assert main(["token", "new", "--file", str(tokens)]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 43
    text = tokens.read_text()
    assert token not in text and text.startswith("sha256:")
    assert TokenStore(tokens).is_valid(token)
    with make_client(Settings(tiles_dir=tiles_dir, tokens_file=tokens)) as client:
        r = client.get("/tiles/internal.json", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert client.get("/tiles/internal.json").status_code == 401


def test_token_new_uses_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUBLISH_TOKENS_FILE", str(tmp_path / "env-tokens"))
    assert main(["token", "new"]) == 0
    assert main(["token", "new"]) == 0
    first, second = capsys.readouterr().out.split()
    store = TokenStore(tmp_path / "env-tokens")
    assert store.is_valid(first) and store.is_valid(second) and len(store) == 2
    monkeypatch.delenv("PUBLISH_TOKENS_FILE")
    assert main(["token", "new"]) == 2
    assert "PUBLISH_TOKENS_FILE" in capsys.readouterr().err


@pytest.fixture
def glyph_folder_restored() -> Iterator[None]:
    """`serve` names this process's glyph folder (its data folder's): the user's cache after."""
    from publish.fonts.glyphs import use_glyphs_dir

    try:
        yield
    finally:
        use_glyphs_dir(None)


@pytest.mark.usefixtures("glyph_folder_restored")
def test_serve_sets_the_environment_and_runs_uvicorn_standard(
    tmp_path: Path, tiles_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from publish.fonts.glyphs import glyphs_dir
    from publish.server.metrics import MULTIPROC_ENV

    names = ("TILES_DIR", "TOKENS_FILE", "CORS_ORIGINS", "RELOAD_INTERVAL", "DATA_DIR")
    for name in (*names, "MAPPROXY_TEMPLATE"):
        monkeypatch.setenv(f"PUBLISH_{name}", "")  # restored after the test
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    calls: list[tuple[str, dict[str, Any]]] = []
    metrics: list[Path] = []

    def run(app: str, **kw: Any) -> None:
        calls.append((app, kw))
        metrics.append(Path(os.environ[MULTIPROC_ENV]))
        assert metrics[0].is_dir()

    monkeypatch.setattr(uvicorn, "run", run)
    data = tmp_path / "data"
    template = tmp_path / "mapproxy.yaml"
    status = main(
        [
            "serve",
            "--tiles",
            str(tiles_dir),
            "--port",
            "8123",
            "--workers",
            "2",
            "--tokens-file",
            str(tmp_path / "tokens"),
            "--cors-origins",
            "*",
            "--reload-interval",
            "0.5",
            "--data-dir",
            str(data),
            "--mapproxy-template",
            str(template),
            "--server",
            "uvicorn",
        ]
    )
    assert status == 0
    [(app, kw)] = calls
    assert app == APP_FACTORY and kw["factory"] is True
    assert (kw["host"], kw["port"], kw["workers"]) == ("127.0.0.1", 8123, 2)
    assert kw["loop"] == "uvloop" and kw["http"] == "httptools"
    assert kw["proxy_headers"] is False  # the app applies X-Forwarded-*, under either server
    assert os.environ["PUBLISH_TILES_DIR"] == str(tiles_dir.resolve())
    settings = Settings.from_env()
    assert settings.cors_origins == ("*",) and settings.reload_interval_s == 0.5
    assert settings.tokens_file == (tmp_path / "tokens").resolve()
    assert settings.data_dir == data.resolve() and settings.mapproxy_template == template
    # the workers' shared metrics folder was in the data folder, and is gone
    assert metrics[0].parent == data.resolve() and not metrics[0].exists()
    # the label glyphs were made in the data folder before the workers started
    assert glyphs_dir() == settings.glyphs_dir
    assert (settings.glyphs_dir / "Noto Sans Regular" / "0-255.pbf").is_file()
    from publish.app import app_from_env

    with make_client(Settings.from_env()) as client:  # what the factory builds
        assert client.get("/healthz").status_code == 200
    served = app_from_env()  # the stack as the servers run it: the tile fast path first
    assert type(served).__name__ == "TileFastPath" and served.state.settings == settings


def test_serve_refuses_a_missing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PUBLISH_TILES_DIR", "")
    assert main(["serve", "--tiles", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.usefixtures("glyph_folder_restored")
def test_serve_public_url_goes_through_the_settings(
    tiles_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--public-url` wins over PUBLISH_PUBLIC_URL, reaches Settings (checked there) and the
    documents the factory's app writes; a URL that is not http(s) stops `serve` with exit 2."""
    import uvicorn

    monkeypatch.setenv("PUBLISH_PUBLIC_URL", "https://old.example.gov.cn")
    monkeypatch.setenv("PUBLISH_TILES_DIR", "")  # restored after the test
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    url = "https://map.example.gov.cn/onemap"
    assert (
        main(["serve", "--tiles", str(tiles_dir), "--server", "uvicorn", "--public-url", url + "/"])
        == 0
    )
    settings = Settings.from_env()
    assert settings.public_url == url and "map.example.gov.cn" in settings.hosts
    with make_client(settings) as client:
        tilejson = client.get("/tiles/public.json", headers={"Host": "map.example.gov.cn"}).json()
    assert tilejson["tiles"][0].startswith(f"{url}/releases/"), tilejson["tiles"]

    assert (
        main(
            [
                "serve",
                "--tiles",
                str(tiles_dir),
                "--server",
                "uvicorn",
                "--public-url",
                "map.example.gov.cn",
            ]
        )
        == 2
    )
    assert "public_url must start with http:// or https://: 'map.example.gov.cn'" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "env", "warmup"),
    [
        ([], None, True),  # serve's default: the render processes start with the server
        (["--no-raster-warmup"], None, False),
        ([], "off", False),
        (["--raster-warmup"], "0", True),  # the option wins over the variable
    ],
)
def test_serve_warms_the_raster_renderers_unless_told_not_to(
    argv: list[str], env: str | None, warmup: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publish.server.commands import serve_environment

    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    if env is None:
        monkeypatch.delenv("PUBLISH_RASTER_WARMUP", raising=False)
    else:
        monkeypatch.setenv("PUBLISH_RASTER_WARMUP", env)
    args = parser.parse_args(["serve", "--tiles", "/srv/tiles", *argv])
    environ = {**os.environ, **serve_environment(args)}
    assert Settings.from_env(environ).raster_warmup is warmup


@pytest.mark.usefixtures("glyph_folder_restored")
def test_serve_runs_granian_with_the_same_options(
    tmp_path: Path, tiles_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    import granian
    from granian.constants import Interfaces

    from publish.server.runners import APP_FACTORY

    for name in ("TILES_DIR", "DATA_DIR", "TRUSTED_PROXIES"):
        monkeypatch.setenv(f"PUBLISH_{name}", "")  # restored after the test
    made: list[tuple[str, dict[str, Any]]] = []

    class Recorded:
        def __init__(self, target: str, **kw: Any) -> None:
            made.append((target, kw))

        def serve(self) -> None:
            pass

    monkeypatch.setattr(granian, "Granian", Recorded)
    methods: list[str] = []  # not this test process's: recorded
    monkeypatch.setattr(multiprocessing, "set_start_method", lambda m, force: methods.append(m))
    argv = ["serve", "--tiles", str(tiles_dir), "--port", "8124", "--workers", "3"]
    assert main([*argv, "--server", "granian", "--log-level", "warning"]) == 0
    [(target, kw)] = made
    assert methods == ["spawn"]  # fresh workers, as uvicorn's
    assert target == APP_FACTORY and kw["factory"] is True
    assert (kw["address"], kw["port"], kw["workers"]) == ("127.0.0.1", 8124, 3)
    assert kw["interface"] == Interfaces.ASGI  # the interface that runs the lifespan
    assert kw["log_access"] is False and kw["log_level"] == "warning"
    assert kw["log_dictconfig"]["loggers"]["publish.access"]["level"] == "WARNING"
    with pytest.raises(SystemExit):  # no other server
        main([*argv, "--server", "nginx"])
