"""The outcome pages: the clinic dashboard, a patient's progress report and referral letter, and
the research export."""

from django.urls import URLPattern, path  # noqa: F401  (patterns are added below as the pages land)

app_name = "outcomes"

urlpatterns: list[URLPattern] = []
