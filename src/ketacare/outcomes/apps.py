from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """Clinic outcomes: treatment-course episodes, durability, the outcome dashboard, progress
    reports and research export. It reads every clinical domain and writes only its own
    exports' audit events and the dashboard's derived summaries."""

    name = "ketacare.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from ketacare.outcomes import receivers

        receivers.connect()  # the dashboard's summaries follow every change they read
