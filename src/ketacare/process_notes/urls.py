"""The process_notes pages."""

from django.urls import path

from ketacare.process_notes import views

app_name = "process_notes"

urlpatterns = [
    path("patients/<int:patient_id>/", views.patient_notes, name="patient_notes"),
    path("notes/<int:note_id>/edit/", views.edit, name="edit"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/revoke/", views.revoke, name="revoke"),
]
