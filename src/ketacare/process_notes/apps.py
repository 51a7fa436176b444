from django.apps import AppConfig


class ProcessNotesConfig(AppConfig):
    """A therapist's private psychotherapy (process) notes, kept apart from the record: visible
    to their author only, unless an administrator grants another therapist access with a
    recorded reason; never on the chart, in a report, an export or the API."""

    name = "ketacare.process_notes"
    label = "process_notes"
