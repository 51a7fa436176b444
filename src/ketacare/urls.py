from django.urls import include, path

from ketacare.api import api
from ketacare.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("ketacare.accounts.urls")),
    path("patients/", include("ketacare.patients.urls")),
    path("audit/", include("ketacare.audit.urls")),
    path("", include("ketacare.measures.urls")),
    path("self-report/", include("ketacare.measures.self_report_urls")),
    path("", include("ketacare.screening.urls")),
    path("", include("ketacare.plans.urls")),
    path("", include("ketacare.sessions.urls")),
    path("pk/", include("ketacare.pk.urls")),
    path("api/v1/", api.urls),
]
