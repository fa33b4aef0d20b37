"""Coordinate reference system helpers (datum conversions not covered by PROJ)."""
