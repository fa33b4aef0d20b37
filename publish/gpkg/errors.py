"""The GeoPackage wing's exceptions: one family under `GeoPackageError`.

The build wraps them into BuildError where it promises one (publish.features.assembly); the OGC
provider maps them to pygeoapi's provider errors (publish.ogc.features).
"""

from __future__ import annotations

from publish.errors import PublishError


class GeoPackageError(PublishError):
    """A GeoPackage or one of its tables cannot be read or served (missing, not a feature
    table, no spatial index, unreadable)."""


class GeometryBlobError(GeoPackageError):
    """A GeoPackage geometry blob that cannot be read."""
