from django.urls import path

from ketacare.plans import views

app_name = "plans"
urlpatterns = [
    path("patients/<int:patient_id>/plans/new/", views.new_plan, name="new"),
    path("plans/<int:plan_id>/", views.detail, name="detail"),
    path("plans/<int:plan_id>/sign/", views.sign, name="sign"),
    path("plans/<int:plan_id>/revise/", views.revise, name="revise"),
    path("sessions/<int:session_id>/move/", views.move, name="move"),
    path("sessions/<int:session_id>/cancel/", views.cancel, name="cancel"),
    path("plans/<int:plan_id>/titration/", views.titration_review, name="titration"),
    path("titration/<int:review_id>/decide/", views.titration_decide, name="titration_decide"),
    path("calendar/", views.calendar, name="calendar"),
    path("protocols/", views.protocol_list, name="protocols"),
    path("protocols/<slug:protocol_id>/edit/", views.protocol_edit, name="protocol_edit"),
]
