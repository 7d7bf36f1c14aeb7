"""Trusted browsers: forgetting one from Profile > Settings > Security. (The emailed
new-device code is a sign-in step: ``security.signin.views``.)"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from accounts.decorators import not_while_impersonating
from security.devices import services as devices
from security.devices.models import TrustedDevice


@not_while_impersonating
@require_POST
def forget_device(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(TrustedDevice, pk=pk, user=request.user)
    devices.forget(request=request, device=device)
    messages.success(
        request, f"{device.name or 'The device'} will need an emailed code at its next sign-in."
    )
    return redirect("accounts:settings_security")
