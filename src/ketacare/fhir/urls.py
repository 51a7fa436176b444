"""The FHIR staff pages: a patient's record as a FHIR file, and the import page."""

from django.urls import path

from ketacare.fhir import views

app_name = "fhir"

urlpatterns = [
    path("patients/<int:patient_id>/export/", views.export_patient, name="export_patient"),
    path("import/", views.import_file, name="import"),
]
