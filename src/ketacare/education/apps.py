from django.apps import AppConfig


class EducationConfig(AppConfig):
    """Patient education: versioned handouts per route in plain language, sent with the
    self-report link, and the patient's acknowledgement of the version they read."""

    name = "ketacare.education"
    label = "education"
