"""The measures pages: a patient's measures and trends, recording a response, self-report
requests and schedules, doses, alerts, and marking a response entered in error."""

from django.urls import path

from ketacare.measures import views

app_name = "measures"
urlpatterns = [
    path("patients/<int:patient_id>/measures/", views.patient_measures, name="patient_measures"),
    path(
        "patients/<int:patient_id>/measures/<str:instrument_id>/new/",
        views.record_response,
        name="record",
    ),
    path("patients/<int:patient_id>/self-report/new/", views.issue_request, name="issue"),
    path("patients/<int:patient_id>/schedules/", views.patient_schedules, name="schedules"),
    path("patients/<int:patient_id>/doses/", views.record_dose, name="record_dose"),
    path("schedules/<int:schedule_id>/stop/", views.stop_schedule, name="stop_schedule"),
    path("alerts/<int:alert_id>/close/", views.close_alert, name="close_alert"),
    path(
        "responses/<int:response_id>/entered-in-error/",
        views.entered_in_error,
        name="entered_in_error",
    ),
]
