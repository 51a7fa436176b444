"""Fhir: the pages."""
