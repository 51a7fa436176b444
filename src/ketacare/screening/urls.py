from django.urls import path

from ketacare.screening import views

app_name = "screening"
urlpatterns = [
    path("patients/<int:patient_id>/intake/<str:step>/", views.intake_step, name="intake"),
    path("patients/<int:patient_id>/screening/run/", views.run, name="run"),
    path("screenings/<int:screening_id>/", views.result, name="result"),
    path("screenings/<int:screening_id>/sign/", views.sign, name="sign"),
]
