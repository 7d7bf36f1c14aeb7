"""Signing out ends an impersonation (audited); no logic here."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from security.impersonation import services, state


@receiver(user_logged_out, dispatch_uid="security.impersonation.logged_out")
def _end_on_sign_out(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and state.read(request) is not None:
        services.end(request=request, how=services.How.SIGNOUT)
