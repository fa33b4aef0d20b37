"""Conditional requests: ETags and If-None-Match."""

from __future__ import annotations

import hashlib


def body_etag(body: bytes) -> str:
    """A quoted strong ETag for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header matches `etag` (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == bare for candidate in if_none_match.split(",")
    )
