"""The root URL configuration: the site's own pages, then each domain's under its prefix."""

from django.urls import include, path

from ketacare.accounts import passkeys
from ketacare.site import views
from ketacare.site.api import api

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("accounts/", include("ketacare.accounts.urls")),
    # django-otp-webauthn's script reverses its endpoints by this namespace, at the top level
    path("accounts/passkeys/", include((passkeys.urlpatterns, "otp_webauthn"))),
    path("patients/", include("ketacare.patients.urls")),
    path("", include("ketacare.measures.urls")),
    path("self-report/", include("ketacare.measures.self_report_urls")),
    path("", include("ketacare.screening.urls")),
    path("", include("ketacare.plans.urls")),
    path("", include("ketacare.supervised.urls")),
    path("pk/", include("ketacare.pk.urls")),
    path("outcomes/", include("ketacare.outcomes.urls")),
    path("therapy/", include("ketacare.therapy.urls")),
    path("process-notes/", include("ketacare.process_notes.urls")),
    path("education/", include("ketacare.education.urls")),
    path("clinic/", include("ketacare.clinic.urls")),
    path("controlled/", include("ketacare.controlled.urls")),
    path("fhir/", include("ketacare.fhir.urls")),
    path("api/v1/", api.urls),
]
