"""Build progress: rich progress bars on a terminal, plain timestamped lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...


class _NoTask:
    def advance(self, n: int = 1) -> None:
        pass


class Reporter:
    """Where the build says what it is doing. `log` lines are also kept for the manifest."""

    def __init__(self, stream: TextIO | None = None, *, rich: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.lines: list[str] = []
        self._t0 = time.monotonic()
        use_rich = self.stream.isatty() if rich is None else rich
        self._console: Any = None
        if use_rich:
            from rich.console import Console

            self._console = Console(file=self.stream)

    def log(self, message: str) -> None:
        stamp = f"{time.monotonic() - self._t0:7.1f}s"
        self.lines.append(f"{stamp} {message}")
        if self._console is not None:
            self._console.print(f"[dim]{stamp}[/dim] {message}", highlight=False)
        else:
            print(f"[build {stamp}] {message}", file=self.stream, flush=True)

    def print_renderable(self, renderable: Any, plain: list[str]) -> None:
        if self._console is not None:
            self._console.print(renderable)
        else:
            for line in plain:
                print(line, file=self.stream, flush=True)

    @contextmanager
    def stage(self, description: str, total: int | None = None) -> Iterator[Task]:
        """A stage with a progress bar (terminal) or a start and an end line (log)."""
        start = time.monotonic()
        if self._console is None:
            self.log(f"{description} …")
            yield _NoTask()
            self.log(f"{description}: done in {time.monotonic() - start:.1f} s")
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        if total is not None:
            columns.append(MofNCompleteColumn())
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self._console, transient=True) as progress:
            task_id = progress.add_task(description, total=total)

            class _Task:
                def advance(self, n: int = 1) -> None:
                    progress.advance(task_id, n)

            yield _Task()
        self.log(f"{description}: done in {time.monotonic() - start:.1f} s")
