from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Clinic outcomes: treatment-course episodes, durability, the outcome dashboard, progress
    reports and research export. It reads every clinical domain and writes only its own
    exports' audit events."""

    name = "ketacare.outcomes"
    label = "outcomes"
