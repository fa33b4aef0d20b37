"""The GeoPackage format, in one place: writing helpers, reading, geometry blobs, the R-tree query.

* :mod:`publish.gpkg.schema`: what a table is made of inside SQLite (DDL, R-tree, triggers,
  metadata rows), bulk and read-only connections, and whether a table's R-tree is complete.
  The build's feature store (publish.features) writes and assembles tables with it.
* :mod:`publish.gpkg.reader`: a GeoPackage opened for serving (a read-only connection per
  thread, each table's layout read once, one object per file shared by path) and its one R-tree
  query, `rows_in_box`, that the OGC API, the site check and WMS GetFeatureInfo read through.
* :mod:`publish.gpkg.geometry`: GeoPackage geometry blobs to shapely.
* :mod:`publish.gpkg.errors`: `GeoPackageError` and its family.
"""
