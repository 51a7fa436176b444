from django.apps import AppConfig


class PlansConfig(AppConfig):
    """Treatment plans: a protocol template made concrete for one patient, and its sessions."""

    name = "ketacare.plans"
    label = "plans"
