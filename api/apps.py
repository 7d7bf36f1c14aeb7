from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from accounts.tabs import register_tab

        from . import schema  # noqa: F401 (the OpenAPI extensions of the auth classes)

        # Profile > Settings > API Keys.
        register_tab("api_keys", "API Keys", "api:keys")
