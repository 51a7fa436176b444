"""Clinic: the reads."""
