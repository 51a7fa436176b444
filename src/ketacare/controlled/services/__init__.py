"""Controlled: the writes, each audited in its transaction (one module per stage)."""
