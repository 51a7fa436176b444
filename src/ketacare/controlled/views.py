"""Controlled: the pages."""
