"""Controlled: the forms."""
