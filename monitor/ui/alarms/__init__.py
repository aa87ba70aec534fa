"""The alarm system on screen: bar, indicators, sound, limits dialog and log."""
