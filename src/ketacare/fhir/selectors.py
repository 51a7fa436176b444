"""Fhir: the reads."""
