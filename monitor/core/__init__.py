"""Qt-free domain model: vitals, readings, ring buffers, sessions, clocks.

Nothing in this package imports Qt or does I/O.
"""
