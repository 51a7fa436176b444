from django.apps import AppConfig


class PkConfig(AppConfig):
    """Predicted concentration curves: the planned dose's curve and population comparisons."""

    name = "ketacare.pk"
    label = "pk"
