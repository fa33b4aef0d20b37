"""The registry of release outputs, in the order the build writes them (an output may read what
an earlier one wrote: the indicators go into the feature store, the changes compare it with
the replaced release's, the tiles carry the changes as a layer). Adding a part to a release is
one module here and one line below; see publish.release.output for what an output declares."""

from __future__ import annotations

from publish.release.output import ReleaseOutput
from publish.release.outputs.catalog import CATALOG
from publish.release.outputs.changes import CHANGES
from publish.release.outputs.conflicts import CONFLICTS
from publish.release.outputs.features import FEATURES
from publish.release.outputs.indicators import INDICATORS
from publish.release.outputs.monitoring import MONITORING
from publish.release.outputs.ogc import OGC
from publish.release.outputs.review import REVIEW
from publish.release.outputs.style import STYLE
from publish.release.outputs.tiles import TILES

RELEASE_OUTPUTS: tuple[ReleaseOutput, ...] = (
    CATALOG,
    FEATURES,
    INDICATORS,
    # adds its warnings to the review; the tiles carry its `conflicts` layer, tiled in the
    # background from here on (publish.release.outputs.tiles.start_extra_tiles)
    CONFLICTS,
    MONITORING,  # the indicator model's figures: monitoring/<aud>.json, feature tables
    CHANGES,  # reads the features and indicators; the tiles carry its `changes` layer
    TILES,
    OGC,
    STYLE,
    REVIEW,
)

# What a kept release (not the current one) is served from by id: /releases/{id}/tiles/…, /styles/…
KEPT_OUTPUTS: tuple[ReleaseOutput, ...] = (TILES, STYLE)

__all__ = ["KEPT_OUTPUTS", "RELEASE_OUTPUTS"]
