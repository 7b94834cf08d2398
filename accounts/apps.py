from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (both register themselves on import)
        from .two_factor import signals as two_factor_signals  # noqa: F401
