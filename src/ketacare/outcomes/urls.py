"""The outcome pages: the clinic dashboard, a patient's progress report and referral letter, and
the research export."""

from django.urls import URLPattern, path

from ketacare.outcomes import dashboard_views, export_views, views

app_name = "outcomes"

urlpatterns: list[URLPattern] = [
    path("", dashboard_views.dashboard, name="dashboard"),
    path("figures/<slug:figure>/", dashboard_views.figure_patients, name="figure_patients"),
    path("patients/<int:patient_id>/report/", views.report, name="report"),
    path("patients/<int:patient_id>/report.pdf", views.report_pdf, name="report_pdf"),
    path("patients/<int:patient_id>/letter/", views.letter, name="letter"),
    path("patients/<int:patient_id>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("export/", export_views.export, name="export"),
    path("export/agreements/", export_views.agreements, name="agreements"),
]
