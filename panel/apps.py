from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self) -> None:
        from . import checks  # noqa: F401


class PanelAdminConfig(AdminConfig):
    """django.contrib.admin with the panel's site (superusers only, panel sign-in)."""

    default_site = "panel.admin.PanelAdminSite"
