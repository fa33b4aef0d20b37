"""How CRSs are named to clients: OGC URIs of CRS84 and of EPSG codes."""

from __future__ import annotations

OGC_CRS = "http://www.opengis.net/def/crs/"
CRS84_URI = f"{OGC_CRS}OGC/1.3/CRS84"


def epsg_uri(crs: str) -> str:
    """The OGC URI of an `EPSG:<code>` name (http://www.opengis.net/def/crs/EPSG/0/<code>)."""
    authority, _, code = crs.partition(":")
    if authority.upper() != "EPSG" or not code.isdigit():
        raise ValueError(f"not an EPSG:<code> name: {crs!r}")
    return f"{OGC_CRS}EPSG/0/{code}"
