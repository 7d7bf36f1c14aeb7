from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = "Panel"

    def ready(self) -> None:
        from . import checks, csrf  # noqa: F401

        csrf.install()  # CSRF masks from one random read (panel/csrf.py)

        _unregister_unused_otp_admins()


def _unregister_unused_otp_admins() -> None:
    """django-otp's stock TOTP and static devices are not used here (the panel has its
    own encrypted TOTP device and hashed backup codes), but their apps register admins
    that offer to create plaintext devices and whose QR views answer 500 for an unknown
    id. The admin autodiscovers (PanelAdminConfig.ready) before this runs."""
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


class PanelAdminConfig(AdminConfig):
    """django.contrib.admin with the panel's site (superusers only, panel sign-in)."""

    default_site = "panel.admin.PanelAdminSite"
