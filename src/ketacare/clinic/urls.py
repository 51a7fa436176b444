"""Clinic: the URLs."""

from django.urls import path

from ketacare.clinic import views

app_name = "clinic"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
]
