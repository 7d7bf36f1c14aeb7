"""Glue between the accounts signals and trusted browsers (no logic here)."""

from __future__ import annotations

from django.dispatch import receiver

from accounts.signals import password_changed
from security.devices import services as devices


@receiver(password_changed, dispatch_uid="security.devices.password_changed")
def _forget_browsers_after_a_new_password(sender, user, request, how, **kwargs) -> dict:
    """Every trusted browser is forgotten (its next sign-in needs the emailed code), but
    after a change the browser it was made from stays: the password (and the second
    factor) were just proved there. A reset keeps none."""
    keep = None
    if how == "change" and request is not None:
        keep = devices.current_token(request) or ""
    before = devices.trusted_count(user)
    forgotten = devices.forget_all(
        user=user, request=request, reason="password_change", keep_token=keep
    )
    return {"devices_forgotten": forgotten, "device_kept": before - forgotten > 0}
