"""Clinic: the pages."""
