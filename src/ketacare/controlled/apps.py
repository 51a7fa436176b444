from django.apps import AppConfig


class ControlledConfig(AppConfig):
    """Controlled substances (DEA Schedule III): registrations, products, containers, an append-
    only ledger tied to every dose, inventories, counts, discrepancies and the dispensing
    record."""

    name = "ketacare.controlled"
    label = "controlled"
