"""Qt-free storage: the SQLite recorder thread and the read API."""
