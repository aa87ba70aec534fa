"""Qt-free device layer: drivers, codecs, transports and the source registry."""
