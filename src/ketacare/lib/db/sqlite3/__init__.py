"""ketacare's SQLite backend (see :mod:`.base`)."""
