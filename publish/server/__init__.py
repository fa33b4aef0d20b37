"""The server's core: settings, the release a request is answered from, tokens and the audience
guard, the error table, caching, logs and metrics, and the core endpoints (tiles, TileJSON,
archives, styles, glyphs, the viewer's page). The OGC API, raster and WMS/WMTS wings stand on it
(publish.ogc, publish.raster, publish.wms); `publish.app.create_app(settings)` assembles them all.
Nothing here imports a wing, does I/O or reads settings when imported.
"""
