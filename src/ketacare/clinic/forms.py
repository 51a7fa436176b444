"""Clinic: the forms."""
