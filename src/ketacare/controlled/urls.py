"""Controlled: the URLs (under /controlled/)."""

from django.urls import path

from ketacare.controlled import views

app_name = "controlled"

urlpatterns = [
    path("", views.index, name="index"),
    path("setup/", views.setup, name="setup"),
    path("receive/", views.receive, name="receive"),
    path("inventories/", views.inventory, name="inventory"),
    path("containers/<int:container_id>/", views.container, name="container"),
    path("containers/<int:container_id>/waste/", views.waste, name="waste"),
    path("containers/<int:container_id>/count/", views.count, name="count"),
    path("containers/<int:container_id>/dispose/", views.dispose, name="dispose"),
    path("containers/<int:container_id>/overfill/", views.overfill, name="overfill"),
    path("entries/<int:entry_id>/correct/", views.correct, name="correct"),
    path("entries/<int:entry_id>/form-41.pdf", views.form_41, name="form_41"),
    path("discrepancies/", views.discrepancies, name="discrepancies"),
    path("discrepancies/<int:discrepancy_id>/theft/", views.theft, name="theft"),
    path("discrepancies/<int:discrepancy_id>/clock/", views.clock, name="clock"),
    path("discrepancies/<int:discrepancy_id>/resolve/", views.resolve, name="resolve"),
    path("record/", views.record, name="record"),
    path("record.csv", views.record_csv, name="record_csv"),
    path("record.pdf", views.record_pdf, name="record_pdf"),
]
