"""The live window: header, tiles, trends, pleth and the bridge from the hub's queue."""
