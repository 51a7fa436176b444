"""The supervised-session pages (namespace ``sessions``; nothing to do with Django's login
sessions): the live monitor, a patient's sessions, the session page and its actions, alarms,
adverse events and the esketamine REMS form. A ``session_id`` is the planned session's id."""

from django.urls import path

from ketacare.supervised import desk_views, rems_views, views

app_name = "sessions"
urlpatterns = [
    path("monitor/", views.monitor, name="monitor"),
    path("monitor/board/", views.board, name="board"),
    path("patients/<int:patient_id>/sessions/", views.patient_sessions, name="patient_sessions"),
    path("sessions/<int:session_id>/", views.detail, name="detail"),
    path("sessions/<int:session_id>/live/", views.live, name="live"),
    path("sessions/<int:session_id>/check-in/", views.check_in, name="check_in"),
    path("sessions/<int:session_id>/gate/", views.gate, name="gate"),
    path("sessions/<int:session_id>/consent/", views.consent, name="consent"),
    path("sessions/<int:session_id>/weight/", views.weight, name="weight"),
    path("sessions/<int:session_id>/confirm-bp/", views.confirm_bp, name="confirm_bp"),
    path("sessions/<int:session_id>/review-risk/", views.review_risk, name="review_risk"),
    path(
        "sessions/<int:session_id>/second-dose/",
        views.confirm_second_dose,
        name="confirm_second_dose",
    ),
    path("sessions/<int:session_id>/clear/", views.clear, name="clear"),
    path("sessions/<int:session_id>/dose/", views.dose, name="dose"),
    path("sessions/<int:session_id>/end-dosing/", views.end_dosing, name="end_dosing"),
    path("sessions/<int:session_id>/vitals/", views.vitals, name="vitals"),
    path("sessions/<int:session_id>/rate/<str:instrument_id>/", views.rate, name="rate"),
    path("sessions/<int:session_id>/adverse-events/", views.adverse_event, name="adverse_event"),
    path("sessions/<int:session_id>/escort/", views.escort, name="escort"),
    path("sessions/<int:session_id>/ready/", views.ready, name="ready"),
    path("sessions/<int:session_id>/discharge/", views.discharge, name="discharge"),
    path("sessions/<int:session_id>/cancel-checked-in/", views.cancel, name="cancel"),
    path("sessions/<int:session_id>/abort/", views.abort, name="abort"),
    path("sessions/<int:session_id>/titration/", views.titrate, name="titrate"),
    path("sessions/<int:session_id>/instructions/", views.instructions, name="instructions"),
    path("alarms/<int:alarm_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("adverse-events/<int:event_id>/outcome/", views.event_outcome, name="event_outcome"),
    # REMS patient monitoring form (esketamine)
    path("sessions/<int:session_id>/rems/", rems_views.form_page, name="rems"),
    path("sessions/<int:session_id>/rems.pdf", rems_views.form_pdf, name="rems_pdf"),
    path("sessions/<int:session_id>/rems/inputs/", rems_views.inputs, name="rems_inputs"),
    path("sessions/<int:session_id>/rems/sign/", rems_views.sign, name="rems_sign"),
    path("rems/", rems_views.due, name="rems_due"),
    # The front desk's day: arrivals (the patient at the desk, the escort noted) and the chairs
    path("desk/", desk_views.desk, name="desk"),
    path("desk/arrivals/<int:session_id>/", desk_views.arrive, name="arrive"),
]
