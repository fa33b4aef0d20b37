"""Vector tile archives: reading, checking and serving PMTiles written by tippecanoe."""
