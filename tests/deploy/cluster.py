"""Nodes and nginx for the deployment tests: `python -m publish serve` subprocesses on fixed
ports (a killed node restarts on its own port), Debian's nginx on the configuration `deploy nginx`
prints, in a folder of its own (its files: support/nginx.py, shared with bench/deploy.py), and
stand-in nodes that record what nginx sends them or drop it."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler, ThreadingTCPServer
from typing import Any

import httpx

from publish.deploy.nginx import NginxOptions
from support.nginx import local_options, nginx_command, nginx_files
from tests.server.helpers import TEST_SERVER

START_TIMEOUT_S = 60
REPO = Path(__file__).resolve().parents[2]  # nodes import this checkout's `publish`


def tiles_folder(releases: Path, release_id: str, parent: Path) -> Path:
    """A node's tiles folder: `releases` linked to the built ones, `current` → `release_id`.
    What the node writes (raster caches, …) stays in it."""
    out = parent / "tiles"
    out.mkdir(parents=True)
    (out / "releases").symlink_to(releases)
    os.symlink(f"releases/{release_id}", out / "current")
    return out


def wait_until_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until `url` answers 200 (AssertionError with the log if the process ends or it takes
    longer than START_TIMEOUT_S)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(url, timeout=2, verify=False).status_code == 200:  # self-signed TLS
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.1)


class Node:
    """One `serve` process on a fixed port; each start logs to a file of its own."""

    def __init__(self, tiles: Path, port: int, env: Mapping[str, str], logs: Path) -> None:
        self.tiles, self.port, self.logs = tiles, port, logs
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISH_")}
        self.env.update(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The log of the latest start."""
        return self.logs / f"node-{self.port}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        args = [sys.executable, "-m", "publish", "serve", "--tiles", str(self.tiles)]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--reload-interval", "0.5"]
        args += ["--server", TEST_SERVER]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                args, env=self.env, stdout=out, stderr=out, cwd=REPO, start_new_session=True
            )
        wait_until_ready(f"http://{self.address}/healthz", self.proc, self.log)

    def kill(self) -> None:
        """SIGKILL to the node and any process of its own: no shutdown of any kind."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def access_lines(self) -> list[str]:
        """The access lines of the latest start's log (one JSON line per request)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if '"publish.access"' in line]


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate for `name` and its key (EC P-256, a day), made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", f"/CN={name}"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def running_nginx(prefix: Path, options: NginxOptions, ready_path: str) -> Iterator[str]:
    """nginx on `options` (in the foreground, stopped when the block ends) once `ready_path`
    answers 200 through it; yields its base URL (the options' public URL)."""
    conf = nginx_files(prefix, options)
    checked = subprocess.run(nginx_command(prefix, conf, "-t"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    log = prefix / "stdout.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            nginx_command(prefix, conf, "-g", "daemon off;"), stdout=out, stderr=out
        )
    try:
        base = options.public_url.rstrip("/")
        wait_until_ready(base + ready_path, proc, prefix / "error.log")
        yield base
    finally:
        proc.terminate()  # SIGTERM: a fast shutdown
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- stand-ins for nodes, to see what nginx sends them -----------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names


class _Recording(BaseHTTPRequestHandler):
    seen: list[Seen]

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.seen.append(Seen(self.command, self.path, headers))
        body = b"ok"
        self.send_response(200)
        if self.path.endswith(".mvt"):  # as a node sends tiles: gzip, as stored
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        scope = "private" if "private" in self.path else "public"
        self.send_header("Cache-Control", f"{scope}, max-age=60")  # nginx may store "public"
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Closing(BaseRequestHandler):
    """Reads the start of a request and closes the connection without an answer."""

    def handle(self) -> None:
        self.request.recv(65536)


@contextmanager
def recording_node() -> Iterator[tuple[str, list[Seen]]]:
    """An HTTP server answering 200 to everything (`public, max-age=60`; `private, …` when the
    path says private; a `.mvt` gzipped, as nodes send tiles); yields its HOST:PORT and the
    requests it was sent."""
    seen: list[Seen] = []
    handler = type("Handler", (_Recording,), {"seen": seen})
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}", seen
        finally:
            server.shutdown()


@contextmanager
def closing_node() -> Iterator[str]:
    """A TCP server that drops every request unanswered (a node dying mid-request)."""
    with ThreadingTCPServer(("127.0.0.1", 0), _Closing) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


@contextmanager
def nginx_in_front(nodes: list[Node], prefix: Path, port: int) -> Iterator[str]:
    """The nodes started and nginx on `port` in front of them (its files under `prefix`): its
    base URL; the nodes are stopped afterwards."""
    try:
        for node in nodes:
            node.start()
        options = local_options(prefix, tuple(node.address for node in nodes), port)
        with running_nginx(prefix, options, "/healthz") as base:
            yield base
    finally:
        for node in nodes:
            node.stop()
