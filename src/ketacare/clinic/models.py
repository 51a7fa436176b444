"""Clinic: its records (filled in by the issue that builds it)."""
