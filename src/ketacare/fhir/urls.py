"""Fhir: the URLs."""

from django.urls import URLPattern

app_name = "fhir"

urlpatterns: list[URLPattern] = []
