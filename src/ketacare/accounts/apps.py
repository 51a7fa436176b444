from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ketacare.accounts"
    label = "accounts"

    def ready(self) -> None:
        from ketacare.accounts import signals  # noqa: F401  (connects the login audit)
