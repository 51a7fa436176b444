"""The education pages: staff (handouts, the clinic's edits, a patient's handouts) and the
patient's own handout behind a one-time link (public, no login)."""

from django.urls import path

from ketacare.education import views

app_name = "education"

urlpatterns = [
    path("handouts/", views.handout_list, name="handouts"),
    path("handouts/<str:route>/<str:lang>/", views.handout, name="handout"),
    path("handouts/<str:route>/<str:lang>.pdf", views.handout_pdf, name="handout_pdf"),
    path("handouts/<str:route>/<str:lang>/edit/", views.edit, name="edit"),
    path("patients/<int:patient_id>/", views.patient_handouts, name="patient"),
    path("patients/<int:patient_id>/send/", views.send, name="send"),
    path("patients/<int:patient_id>/paper/", views.paper, name="paper"),
    path("h/<str:token>/", views.read, name="read"),
    path("h/<str:token>/pdf/", views.read_pdf, name="read_pdf"),
]
