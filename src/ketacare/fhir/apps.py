from django.apps import AppConfig


class FhirConfig(AppConfig):
    """FHIR R4 (US Core 6.1.0): resources built from the records, SDC questionnaires from the
    instrument data, patient and bulk export, import of outside measures."""

    name = "ketacare.fhir"
    label = "fhir"
