from django.apps import AppConfig


class SessionsConfig(AppConfig):
    """Supervised sessions. Labelled "supervised": Django's own ``sessions`` app has that label."""

    name = "ketacare.sessions"
    label = "supervised"
    verbose_name = "Supervised sessions"
