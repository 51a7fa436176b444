from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Eligibility screening: intake, rule evaluation (ketacare.clinical.eligibility), sign-off."""

    name = "ketacare.screening"
    label = "screening"
