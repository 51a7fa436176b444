"""Controlled: the writes, each audited in its transaction."""
