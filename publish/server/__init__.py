"""The server: a release's tiles, TileJSON, archives and styles over HTTP, per audience.

`publish.server.app.create_app(settings)` builds the Starlette application; nothing here does any
I/O or reads settings when imported.
"""
