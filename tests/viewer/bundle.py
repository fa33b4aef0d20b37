"""What the viewer's built scripts import: the chunks named by a script's import statements (it
needs them before it runs; the pages preload them) and by its dynamic imports (loaded later),
read from the script's text as the build wrote it (publish/viewer/static)."""

from __future__ import annotations

import re
from pathlib import Path

_STATIC = re.compile(r'(?:\bfrom|\bimport)\s*"\./(chunk-[A-Z0-9]+\.js)"')
_DYNAMIC = re.compile(r'\bimport\(\s*"\./(chunk-[A-Z0-9]+\.js)"\s*\)')


def static_chunks(script: str) -> list[str]:
    """The chunks the script `script` (its text) imports with import statements, in order."""
    return list(dict.fromkeys(_STATIC.findall(script)))


def dynamic_chunks(script: str) -> list[str]:
    """The chunks the script imports with import()."""
    return list(dict.fromkeys(_DYNAMIC.findall(script)))


def needed_chunks(folder: Path, name: str) -> list[str]:
    """Every chunk the script `name` of `folder` needs before it runs: its import statements'
    chunks and theirs."""
    seen: list[str] = []
    todo = [name]
    while todo:
        for chunk in static_chunks((folder / todo.pop()).read_text(encoding="utf-8")):
            if chunk not in seen:
                seen.append(chunk)
                todo.append(chunk)
    return seen
