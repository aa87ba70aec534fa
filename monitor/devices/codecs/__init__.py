"""Protocol codecs: bytes from a device -> readings, wave chunks and device flags."""
