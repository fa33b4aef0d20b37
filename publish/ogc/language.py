"""The language of an OGC API answer, chosen before pygeoapi sees the request.

pygeoapi 0.21 negotiates the language itself (`?lang=` first, then Accept-Language) and, when a
client asks for a language it does not serve, falls back to `Locale('zh', territory='CN')`, which
babel refuses (it knows zh_Hans_CN): every request from a browser set to zh-TW, fr-FR, ja or `*`
became a 500. So the server picks the language here, from the configured ones, and hands pygeoapi
a request that names exactly that language (`lang` and Accept-Language rewritten), which its
negotiation always matches.

The choice: `?lang=` when it names a served language; otherwise the Accept-Language entries by
quality (RFC 9110 §12.5.4; equal qualities keep their order); a tag matches a served language
with the same primary subtag (zh-TW, zh-HK and zh-Hant → zh-CN, en-GB → en-US); `*` and no match
give the first served language (the default).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from starlette.types import Scope

QUERY_PARAM = "lang"
_MAX_TAGS = 32  # a header of more tags is read no further


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-", 1)[0].lower()


def _match(tag: str, served: Sequence[str]) -> str | None:
    wanted = _primary(tag)
    if not wanted or wanted == "*":
        return None
    exact = tag.strip().replace("_", "-").lower()
    for language in served:
        if language.lower() == exact:
            return language
    for language in served:
        if _primary(language) == wanted:
            return language
    return None


def _by_quality(header: str) -> list[str]:
    """The tags of an Accept-Language header, best first; q=0 and malformed entries dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if tag.strip() and 0 < quality <= 1:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(lang: str | None, accept_language: str | None, served: Sequence[str]) -> str:
    """The served language (one of `served`, the first being the default) for a request."""
    if lang:
        found = _match(lang, served)
        if found is not None:
            return found
    for tag in _by_quality(accept_language or ""):
        found = _match(tag, served)
        if found is not None:
            return found
    return served[0]


def with_language(scope: Scope, served: Sequence[str]) -> Scope:
    """A copy of the HTTP `scope` whose `lang` parameter (if any) and Accept-Language header
    name the language chosen for it."""
    headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"accept-language"]
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"").decode(
        "latin-1"
    )
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    lang = next((v for k, v in query if k == QUERY_PARAM), None)
    chosen = choose_language(lang, accept, served)
    headers.append((b"accept-language", chosen.encode("latin-1")))
    out = {**scope, "headers": headers}
    if lang is not None:
        query = [(k, chosen if k == QUERY_PARAM else v) for k, v in query]
        out["query_string"] = urlencode(query).encode("latin-1")
    return out
