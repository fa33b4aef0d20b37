"""The domain's shared constants: the audiences a release is published for.

A layer's `access` is one of the audiences; the public sees public layers, staff (internal) see
every layer.
"""

from __future__ import annotations

PUBLIC = "public"
INTERNAL = "internal"
AUDIENCES = (PUBLIC, INTERNAL)
