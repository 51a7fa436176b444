"""The patient pages under ``/patients/``: search, register, chart and edit, plus an add and a
remove route for each kind of chart entry (from ``views.add_views`` and ``views.remove_views``)."""

from django.urls import path

from ketacare.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.register, name="register"),
    path("<int:patient_id>/", views.chart, name="chart"),
    path("<int:patient_id>/edit/", views.edit, name="edit"),
    path("<int:patient_id>/allergies/none/", views.no_known_allergies, name="no_known_allergies"),
]
for kind in views.add_views:
    urlpatterns += [
        path(f"<int:patient_id>/{kind}/add/", views.add_views[kind], name=f"add_{kind}"),
        path(
            f"<int:patient_id>/{kind}/<int:item_id>/remove/",
            views.remove_views[kind],
            name=f"remove_{kind}",
        ),
    ]
