from django.apps import AppConfig


class SessionsConfig(AppConfig):
    """Supervised sessions. Labelled "supervised": Django's own ``sessions`` app has that label."""

    name = "ketacare.supervised"
    label = "supervised"
    verbose_name = "Supervised sessions"

    def ready(self) -> None:
        from ketacare.supervised import checks  # noqa: F401  (registers the start-up checks)
