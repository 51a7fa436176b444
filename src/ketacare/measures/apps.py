from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    """Measurement-based care: validated instruments (scoring lives in ketacare.clinical)."""

    name = "ketacare.measures"
    label = "measures"
