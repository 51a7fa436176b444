"""Fhir: the writes, each audited in its transaction."""
