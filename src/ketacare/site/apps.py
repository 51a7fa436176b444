"""The roof: the app that composes the domains (home, health, the care-team dashboard, the audit
trail viewer, the demo clinic, the server). Nothing imports it."""

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "ketacare.site"
    label = "site"
    verbose_name = "ketacare site"
