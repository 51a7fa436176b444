from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The clinic's own settings, edited by an administrator in the app: the healthcare setting's
    name, address and phone (the REMS form), its chairs and opening hours. Environment
    variables are the defaults."""

    name = "ketacare.clinic"
    label = "clinic"
