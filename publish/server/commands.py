"""The `serve` and `token` subcommands (wired into `python -m publish` by publish.cli)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from publish.errors import PublishError
from publish.server.runners import APP_FACTORY, SERVERS, run_server

# Only light imports up here: publish.cli adds these commands to every invocation's parser
# (publish.server.runners imports its servers when it runs them).
__all__ = ["APP_FACTORY", "add_commands", "main"]


def add_commands(subparsers: Any) -> None:
    """Add `serve` and `token` to an argparse subparsers object; each sets `run`."""
    serve = subparsers.add_parser(
        "serve", help="serve the current release (tiles, TileJSON, archives, styles)"
    )
    serve.add_argument("--tiles", required=True, help="the tiles folder (DIR/current)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_at_least_one, default=1, help="worker processes")
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default="granian",
        help="the ASGI server: granian (default: ~1.8x uvicorn's tiles a second here, "
        "bench/deploy.py) or uvicorn[standard]",
    )
    serve.add_argument("--tokens-file", help="token hashes (else $PUBLISH_TOKENS_FILE)")
    serve.add_argument(
        "--cors-origins", help="comma-separated origins, * for any (else $PUBLISH_CORS_ORIGINS)"
    )
    serve.add_argument(
        "--reload-interval", type=float, help="seconds between checks of DIR/current"
    )
    serve.add_argument(
        "--data-dir",
        help="where the server writes: glyphs, raster caches, metrics "
        "(else $PUBLISH_DATA_DIR, else TILES/.data)",
    )
    serve.add_argument(
        "--mapproxy-template",
        help="MapProxy template (else $PUBLISH_MAPPROXY_TEMPLATE, else the package's)",
    )
    serve.add_argument(
        "--public-url",
        help="the URL clients reach the server at, written into TileJSON and styles "
        "(else $PUBLISH_PUBLIC_URL, else each request's own)",
    )
    serve.add_argument(
        "--raster-warmup",
        action=argparse.BooleanOptionalAction,
        help="start the raster render processes at startup, in the background "
        "(else $PUBLISH_RASTER_WARMUP, else on)",
    )
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning"))
    serve.set_defaults(run=run_serve)

    token = subparsers.add_parser("token", help="manage the internal audience's tokens")
    actions = token.add_subparsers(dest="token_action", required=True)
    new = actions.add_parser("new", help="print a new token and append its hash to the file")
    new.add_argument("--file", help="the tokens file (else $PUBLISH_TOKENS_FILE)")
    new.set_defaults(run=run_token_new)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def serve_environment(args: argparse.Namespace) -> dict[str, str]:
    """The PUBLISH_* variables the app factory reads, from the arguments (over the env's)."""
    from publish.server.settings import ENV_PREFIX, env_value

    env = {ENV_PREFIX + "TILES_DIR": str(Path(args.tiles).resolve())}
    if args.tokens_file:
        env[ENV_PREFIX + "TOKENS_FILE"] = str(Path(args.tokens_file).resolve())
    if args.cors_origins is not None:
        env[ENV_PREFIX + "CORS_ORIGINS"] = args.cors_origins
    if args.reload_interval is not None:
        env[ENV_PREFIX + "RELOAD_INTERVAL"] = repr(args.reload_interval)
    if args.public_url is not None:
        env[ENV_PREFIX + "PUBLIC_URL"] = args.public_url
    if args.raster_warmup is not None:
        env[ENV_PREFIX + "RASTER_WARMUP"] = "1" if args.raster_warmup else "0"
    elif env_value("RASTER_WARMUP") is None:
        env[ENV_PREFIX + "RASTER_WARMUP"] = "1"  # a server's first raster should not wait
    for name, value in (("DATA_DIR", args.data_dir), ("MAPPROXY_TEMPLATE", args.mapproxy_template)):
        if value:
            env[ENV_PREFIX + name] = str(Path(value).resolve())
    return env


def run_serve(args: argparse.Namespace) -> int:
    """Run the ASGI server (`--server`: publish.server.runners) on the app factory; returns
    when it stops."""
    from publish.server.errors import SettingsError
    from publish.server.settings import Settings

    os.environ.update(serve_environment(args))
    settings = Settings.from_env()  # fail here, before any worker starts, on bad settings
    if not settings.tiles_dir.is_dir():
        raise SettingsError(f"--tiles {settings.tiles_dir}: no such folder")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"data folder {settings.data_dir}: cannot be made: {exc}") from exc
    _prepare_glyphs(settings.glyphs_dir)
    with _shared_metrics(args.workers, settings.data_dir):
        run_server(args)
    return 0


def _prepare_glyphs(folder: Path) -> None:
    """Make the label glyphs in the data folder before the workers start (so that they do not
    race to make them, and the first map does not wait); without the fonts the server still
    runs, and a glyph request says what is missing."""
    from publish.fonts.glyphs import FontMissingError, glyphs_dir, use_glyphs_dir

    use_glyphs_dir(folder)
    try:
        glyphs_dir()
    except FontMissingError as exc:
        print(f"warning: no label glyphs: {exc}", file=sys.stderr)


@contextmanager
def _shared_metrics(workers: int, data_dir: Path) -> Iterator[None]:
    """With several workers, an empty folder in the data folder for prometheus_client's
    multiprocess mode (named in PROMETHEUS_MULTIPROC_DIR, which the workers inherit), removed
    when the server stops; a folder the operator names there is used as it is."""
    from publish.server.metrics import MULTIPROC_ENV

    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="metrics-", dir=data_dir)
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(folder, ignore_errors=True)


def run_token_new(args: argparse.Namespace) -> int:
    """Print a new token on stdout (shown once) and append its hash to the tokens file."""
    from publish.server.auth import append_token_hash, new_token, require_tokens_file

    path = require_tokens_file(args.file)
    token = new_token()
    append_token_hash(path, token)
    print(token)
    print(f"its sha256 was appended to {path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`serve` and `token` on their own (for tests and until publish.cli wires them)."""
    parser = argparse.ArgumentParser(prog="publish-server")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
