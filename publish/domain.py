"""The domain's shared constants: the audiences a release is published for, and the working CRS
a city's areas are measured in when its catalog names none.

A layer's `access` is one of the audiences; the public sees public layers, staff (internal) see
every layer. The working CRS of a city is its catalog's `city: {crs: ...}` (publish.catalog);
DEFAULT_CRS is the sample city's (Zhangjiajie, 张家界市), used when the catalog leaves it out.
"""

from __future__ import annotations

PUBLIC = "public"
INTERNAL = "internal"
AUDIENCES = (PUBLIC, INTERNAL)

# CGCS2000 3-degree Gauss-Krüger zone 37, central meridian 111°E, metres.
DEFAULT_CRS = "EPSG:4546"

# The extra tile layer of label points: one point per named administrative area, drawn by the
# style instead of labelling the polygons (publish.features.labels).
LABELS_LAYER = "labels"

# Where a refused build's review report goes: DIR/reports/<UTC time>-<random>/ (publish.pipeline
# .build), read back by the server's /internal/reviews (publish.server.reviews).
REPORTS_FOLDER = "reports"
