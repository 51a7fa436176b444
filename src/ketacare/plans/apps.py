from django.apps import AppConfig


class PlansConfig(AppConfig):
    """Treatment plans: a protocol template made concrete for one patient, and its sessions."""

    name = "ketacare.plans"
    label = "plans"

    def ready(self) -> None:
        # The clinic settings refuse to remove a chair while plans still book it.
        from ketacare.clinic.services import register_bookings
        from ketacare.plans.selectors import bookings_of_chairs

        register_bookings(bookings_of_chairs)
