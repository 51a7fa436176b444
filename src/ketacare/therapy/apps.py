from django.apps import AppConfig


class TherapyConfig(AppConfig):
    """Psychotherapy alongside ketamine: preparation, dosing-support and integration sessions
    with structured notes that are signed and locked, and integration proposed on time after
    each dose."""

    name = "ketacare.therapy"
    label = "therapy"

    def ready(self) -> None:
        from ketacare.therapy import receivers

        receivers.connect()  # each first dose proposes its integration session
