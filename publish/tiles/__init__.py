"""Vector tiles: their formats (PMTiles, TileJSON, MVT) and the tile build with tippecanoe."""
