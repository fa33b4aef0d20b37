"""The ASGI servers `serve` runs the app under (`serve --server uvicorn|granian`): the same app
factory, host, port, workers and log options for both, the ASGI lifespan on, no access log of
the server's own (publish.server.logs writes ours), and no proxy-header handling of the
server's own: the app applies X-Forwarded-For/-Proto from the trusted proxies of its settings
(publish.server.stack), under either server alike.

- uvicorn[standard]: uvloop and httptools; with one worker it serves in the `serve` process
  itself, with more it supervises that many worker processes.
- granian (a Rust HTTP server; PyPI `granian`): its `asgi` interface, which runs the lifespan
  in each worker before it accepts requests. The `serve` process always supervises worker
  processes (spawned, one at least) and respawns a worker that dies (one whose startup fails
  twice within 5.5 s stops the server, status 1). A SIGHUP to it is passed on to the workers'
  app, as uvicorn with one worker gets it (granian itself would respawn them). granian sends
  `server: granian` (it has no option to leave it out).
"""

from __future__ import annotations

import argparse
import os
import signal
from contextlib import suppress
from typing import Any

SERVERS = ("uvicorn", "granian")
APP_FACTORY = "publish.app:app_from_env"


def run_server(args: argparse.Namespace) -> None:
    """Run `args.server` on the app factory; returns when it stops."""
    if args.server == "granian":
        run_granian(args)
    else:
        run_uvicorn(args)


def run_uvicorn(args: argparse.Namespace) -> None:
    import uvicorn

    from publish.server.logs import log_config

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level=args.log_level,
        log_config=log_config(args.log_level),
        access_log=False,  # publish.server.logs writes one JSON line per request instead
        server_header=False,
        proxy_headers=False,  # the app applies them (see the module's text)
    )


def run_granian(args: argparse.Namespace) -> None:
    import multiprocessing

    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    from publish.server.logs import log_config

    class Supervisor(Granian):  # type: ignore[misc, valid-type]
        """granian's supervisor, but a SIGHUP is passed on to the workers, where the app takes
        it as under uvicorn (publish.server.lifespan: DIR/current checked again, caches kept)
        instead of granian's own answer, a respawn of every worker (during which old and new
        workers answer side by side)."""

        def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
            for worker in list(self.wrks):
                with suppress(OSError):  # gone meanwhile
                    os.kill(worker.inner.pid, signal.SIGHUP)

    # Workers started afresh, as uvicorn's are, not forked from this process: prometheus_client
    # chooses its multiprocess mode when first imported, which this process did before it set
    # PROMETHEUS_MULTIPROC_DIR (granian takes multiprocessing's start method).
    multiprocessing.set_start_method("spawn", force=True)
    Supervisor(
        APP_FACTORY,
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,  # with the lifespan (ASGINL would skip it)
        workers=args.workers,
        loop=Loops.uvloop,
        websockets=False,  # the app has no websocket route
        log_level=LogLevels(args.log_level),
        log_dictconfig=log_config(args.log_level),
        log_access=False,  # publish.server.logs writes one JSON line per request instead
        respawn_failed_workers=True,
    ).serve()
