"""The clinic's own settings: one row, saved by an administrator on the settings page. Until it
is first saved there is no row and the environment's values are in effect
(:func:`ketacare.clinic.selectors.current`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ketacare.lib.fields import phone_validator

SINGLETON = 1  # the one row's primary key


class ClinicSettings(models.Model):
    """The healthcare setting as forms name it (the esketamine REMS form, report letterheads),
    its chairs in the order the calendar shows them, and its opening hours. A change is
    audited with the values before and after."""

    name = models.CharField(max_length=200)
    address = models.CharField(max_length=100)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100)
    zip = models.CharField(max_length=10)
    phone = models.CharField(max_length=25, validators=[phone_validator])
    chairs = models.JSONField(default=list, help_text="chair or room names, in order")
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    open_days = models.JSONField(default=list, help_text="weekdays, 0 (Monday) to 6")
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "clinic settings"

    def __str__(self) -> str:
        return f"clinic settings of {self.name}"
