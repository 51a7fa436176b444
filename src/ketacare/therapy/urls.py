"""The therapy pages."""

from django.urls import path

from ketacare.therapy import views

app_name = "therapy"

urlpatterns = [
    path("", views.worklist, name="list"),
    path("patients/<int:patient_id>/", views.patient_sessions, name="patient"),
    path("patients/<int:patient_id>/schedule/", views.schedule, name="schedule"),
    path("sessions/<int:therapy_id>/", views.note, name="note"),
    path("sessions/<int:therapy_id>/save/", views.save, name="save"),
    path("sessions/<int:therapy_id>/sign/", views.sign, name="sign"),
    path("sessions/<int:therapy_id>/addendum/", views.addendum, name="addendum"),
    path("sessions/<int:therapy_id>/cancel/", views.cancel, name="cancel"),
]
