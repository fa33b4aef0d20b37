"""OGC API Features and Tiles for a release, through pygeoapi.

pygeoapi loads our two provider plugins by dotted path from the release's generated configuration
(publish.ogc.config): `features.GeoPackageProvider` answers items from the release's
GeoPackage through its R-tree, `tiles.PMTilesProvider` answers collection tiles from the release's
PMTiles archive. `service.OgcService` holds one audience's configuration and pygeoapi's `API`
objects; `routes` adapts pygeoapi's request handlers to Starlette, one set of routes per audience,
so two pygeoapi configurations live in one process without pygeoapi's import-time app.
"""
