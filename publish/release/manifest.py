"""A release's manifest.json: what went in, what came out, and the sha256 of every file."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from publish.errors import ReleaseError

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_digests(root: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file under `root` (relative POSIX paths, sorted), but the manifest."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == MANIFEST:
            continue
        out[rel] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return out


def write_manifest(root: Path, manifest: Mapping[str, Any]) -> Path:
    """Write `manifest` plus the digests of the files now in `root`, durably."""
    doc = dict(manifest)
    doc["files"] = file_digests(root)
    path = root / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2, sort_keys=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_manifest(root: Path) -> dict[str, Any]:
    path = Path(root) / MANIFEST
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ReleaseError(f"{root}: no {MANIFEST} (not a complete release)") from None
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path}: unreadable manifest: {exc}") from exc
    if not isinstance(doc, dict) or "release" not in doc or "files" not in doc:
        raise ReleaseError(f"{path}: not a release manifest")
    return doc


def verify_files(root: Path, doc: Mapping[str, Any], *, digests: bool = True) -> list[str]:
    """What is wrong with the files of the release at `root` that manifest `doc` lists:
    missing, resized or (`digests`) altered files; [] if none."""
    problems = []
    for rel, entry in doc["files"].items():
        path = Path(root) / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != entry["bytes"]:
            problems.append(f"{rel}: {path.stat().st_size} bytes, manifest says {entry['bytes']}")
        elif digests and sha256_file(path) != entry["sha256"]:
            problems.append(f"{rel}: sha256 differs from the manifest")
    return problems
