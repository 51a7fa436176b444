from django.apps import AppConfig


class LibConfig(AppConfig):
    """The leaf every app stands on: the base template, vendored static files, middleware and
    form helpers. It imports no ketacare app."""

    name = "ketacare.lib"
    label = "lib"
