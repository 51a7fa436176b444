"""Controlled: the URLs."""

from django.urls import URLPattern

app_name = "controlled"

urlpatterns: list[URLPattern] = []
