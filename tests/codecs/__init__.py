"""Codec and encoder tests: bytes in, readings and device flags out (no Qt, no hardware)."""
