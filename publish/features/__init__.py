"""The feature store of a build: GeoPackages for queries, and the plan's indicators.

* :mod:`publish.features.store`: one layer streamed into its own single-table GeoPackage
  (:class:`~publish.features.store.LayerTableWriter`), and several of those assembled into one
  GeoPackage per audience (:func:`~publish.features.store.assemble`).
* :mod:`publish.features.indicators`: the plan's indicators (规划指标) by city and county.

What a GeoPackage table is made of inside SQLite (its DDL, R-tree, triggers and metadata rows)
is the GeoPackage wing's (:mod:`publish.gpkg.schema`); the store builds on it.
"""
