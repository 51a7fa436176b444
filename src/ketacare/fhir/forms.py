"""Fhir: the forms."""
