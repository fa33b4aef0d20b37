"""Tokens for the internal audience: stored only as `sha256:<hex>` lines, checked in constant time.

A client sends `Authorization: Bearer <token>`, or HTTP Basic with the token as the password (any
user name) for older desktop clients. The tokens file is read again whenever its mtime, size or
inode changes, so tokens can be added or revoked without a restart. No function here logs or
returns a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import threading
from pathlib import Path

from publish.server.errors import SettingsError

log = logging.getLogger("publish.server")

PREFIX = "sha256:"
_HEX_LEN = 64


def new_token() -> str:
    """A fresh random token (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: `sha256:<64 hex digits>`."""
    return PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def append_token_hash(path: Path, token: str) -> str:
    """Append the hash of `token` to the tokens file (created with mode 0600); returns the line."""
    line = hash_token(token)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        needs_newline = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        os.write(fd, (("\n" if needs_newline else "") + line + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return line


def token_from_authorization(header: str | None) -> str | None:
    """The token in an Authorization header (Bearer, or Basic's password), or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return value
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _user, sep, password = decoded.partition(":")
        return password if sep and password else None
    return None


def parse_token_hashes(text: str, source: str = "tokens file") -> frozenset[str]:
    """The hex digests in a tokens file; blank lines and `#` comments are skipped, as is any
    text after the hash on a line (a label); malformed lines are logged (by number) and skipped."""
    hashes = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        first = line.split()[0]
        digest = first[len(PREFIX) :].lower() if first.startswith(PREFIX) else ""
        if len(digest) == _HEX_LEN and all(c in "0123456789abcdef" for c in digest):
            hashes.add(digest)
        else:
            log.warning("%s line %d is not a sha256:<hex> token hash; ignored", source, number)
    return frozenset(hashes)


class TokenStore:
    """The valid token hashes, from the file at `path` (None: no token is valid)."""

    def __init__(self, path: Path | None) -> None:
        self.path = None if path is None else Path(path)
        self._key: tuple[int, int, int] | None = None
        self._hashes: frozenset[str] = frozenset()
        self._lock = threading.Lock()
        self._missing_logged = False

    def _current(self) -> frozenset[str]:
        if self.path is None:
            return frozenset()
        try:
            st = os.stat(self.path)
        except OSError:
            if not self._missing_logged:
                log.warning("tokens file %s cannot be read: no internal access", self.path)
                self._missing_logged = True
            self._key, self._hashes = None, frozenset()
            return self._hashes
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._key:
            with self._lock:
                if key != self._key:
                    try:
                        text = self.path.read_text(encoding="utf-8")
                    except (OSError, UnicodeDecodeError) as exc:
                        log.warning("tokens file %s cannot be read: %s", self.path, exc)
                        text = ""
                    self._hashes = parse_token_hashes(text, str(self.path))
                    self._key = key
                    self._missing_logged = False
                    log.info("tokens file %s: %d token(s)", self.path, len(self._hashes))
        return self._hashes

    def __len__(self) -> int:
        return len(self._current())

    def is_valid(self, token: str | None) -> bool:
        """Whether `token` is one of the stored ones (every stored hash is compared)."""
        if not token:
            return False
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = False
        for stored in self._current():
            found |= hmac.compare_digest(stored, digest)
        return found

    def is_authorized(self, authorization: str | None) -> bool:
        return self.is_valid(token_from_authorization(authorization))


def require_tokens_file(path: str | os.PathLike[str] | None) -> Path:
    """The tokens file to write, from --file or PUBLISH_TOKENS_FILE."""
    from publish.server.settings import env_value

    value = path or env_value("TOKENS_FILE")
    if not value:
        raise SettingsError("no tokens file: pass --file or set PUBLISH_TOKENS_FILE")
    return Path(value)
