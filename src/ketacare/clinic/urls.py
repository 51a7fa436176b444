"""Clinic: the URLs."""

from django.urls import path

from ketacare.clinic import views

app_name = "clinic"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("credentials/", views.credentials_page, name="credentials"),
    path("credentials/<str:credential>/", views.record_credential, name="record_credential"),
    path("duty/", views.duty_page, name="duty"),
    path("duty/add/", views.add_shift, name="add_shift"),
    path("duty/<int:shift_id>/remove/", views.remove_shift, name="remove_shift"),
]
