"""The patient's pages. Public (no login): a code or link is the only key, and they show
nothing about the patient but a first name."""

from django.urls import path

from ketacare.measures import views

app_name = "self_report"
urlpatterns = [
    path("", views.code_entry, name="code"),
    path("t/<str:token>/", views.link_entry, name="link"),
    path("form/", views.self_report_form, name="form"),
]
