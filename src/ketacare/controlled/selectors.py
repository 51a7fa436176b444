"""Controlled: the reads."""
