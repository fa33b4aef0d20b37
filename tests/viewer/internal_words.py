"""The words only internal layers use, from a catalog (never a list in a test): their ids, titles
and groups, and the names and titles of fields no public layer publishes; and where they occur in
a text (a script's \\u escapes decoded; an ASCII word only as a whole word)."""

from __future__ import annotations

import re

from publish.catalog import Catalog, LayerSpec

_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")


def layer_words(spec: LayerSpec) -> set[str]:
    """Every word the catalog gives a layer: id, titles, group, fields and their titles."""
    words = {spec.id, spec.title_zh, spec.title_en, *spec.fields}
    words |= {w for w in (spec.group, spec.group_en) if w}
    for name in spec.fields:
        words |= set(spec.field_title(name))
    return words


def internal_words(catalog: Catalog) -> set[str]:
    """The words of internal layers that no public layer also uses (BSM, 面积 are shared)."""
    public: set[str] = set()
    internal: set[str] = set()
    for spec in catalog.layers:
        (public if spec.is_public else internal).update(layer_words(spec))
    return internal - public


def decode_escapes(text: str) -> str:
    """`text` with JavaScript's \\u{…}, \\uXXXX and \\xXX escapes decoded (esbuild writes
    non-ASCII characters so)."""
    return _ESCAPE.sub(lambda m: chr(int(next(g for g in m.groups() if g), 16)), text)


def words_in(text: str, words: set[str]) -> list[str]:
    """The `words` that occur in `text` (escapes decoded); an ASCII word only as a whole word,
    so that a short code is not found inside a longer name."""
    plain = decode_escapes(text)
    found = []
    for word in sorted(words):
        if word.isascii():
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", plain):
                found.append(word)
        elif word in plain:
            found.append(word)
    return found
