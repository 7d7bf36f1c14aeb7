"""Start and end an impersonation: keyword-only arguments, one transaction, one audit
event each (``impersonation_started`` / ``impersonation_ended``, both with the reason).

The session is not handed to the other user (no ``login()``): it stays the
administrator's, so their own sign-in, session limits and lockout counters are untouched,
nothing records a sign-in by the user, and ending returns exactly to where they were.
``ImpersonationMiddleware`` swaps ``request.user`` for each request instead. django-hijack
supplies the permission hook (``HIJACK_PERMISSION_CHECK``) and the
``hijack_started``/``hijack_ended`` signals, which are sent here.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils.module_loading import import_string
from hijack import signals as hijack_signals
from hijack.conf import settings as hijack_settings

from accounts.emails import send_email
from audit.actions import Action
from audit.services import audit
from security.exceptions import ImpersonationRefused
from security.impersonation import state
from security.stepup import state as stepup

REASON_MAX_LENGTH = 500


class How:
    """How an impersonation ended (the ``how`` of the audit event)."""

    ENDED = "ended"  # the End button
    EXPIRED = "expired"  # the 30-minute limit
    SIGNOUT = "signout"  # signing out (or the session ending) ends it too
    NOT_ALLOWED = "not_allowed"  # the user became a superuser or was disabled meanwhile


def may_impersonate(*, hijacker, hijacked) -> bool:
    """The configured rule (``HIJACK_PERMISSION_CHECK``, by default
    ``security.impersonation.rules.may_impersonate``)."""
    check = import_string(hijack_settings.HIJACK_PERMISSION_CHECK)
    return bool(check(hijacker=hijacker, hijacked=hijacked))


def clean_reason(reason: str) -> str:
    return " ".join(str(reason or "").split())[:REASON_MAX_LENGTH]


def start(*, request: HttpRequest, target, reason: str) -> state.Impersonation:
    """``request.user`` starts acting as ``target`` for 30 minutes.

    Refused (``ImpersonationRefused``) while already impersonating, without a written
    reason, or when the rule does not allow it; ``StepUpRequired`` without a step-up in
    the last 15 minutes. The session key rotates; the user is emailed unless
    ``PANEL_IMPERSONATION_NOTICE`` is off.
    """
    hijacker = request.user
    if getattr(request, "impersonator", None) is not None or state.read(request) is not None:
        raise ImpersonationRefused(
            "You are already acting as another user. End that first: one impersonation at a time."
        )
    reason = clean_reason(reason)
    if not reason:
        raise ImpersonationRefused("Write why you need to act as this user.", status=400)
    if not may_impersonate(hijacker=hijacker, hijacked=target):
        raise ImpersonationRefused()
    stepup.require_recent(request)
    with transaction.atomic():
        request.session.cycle_key()
        found = state.write(request, user_id=target.pk, impersonator_id=hijacker.pk, reason=reason)
        audit(
            Action.IMPERSONATION_STARTED,
            request=request,
            actor=hijacker,
            user=target,
            impersonator=hijacker,
            metadata={"reason": reason, "minutes": state.LIMIT_SECONDS // 60},
        )
        if settings.PANEL_IMPERSONATION_NOTICE and target.email:
            send_email(
                to=target.email,
                template="impersonation_started",
                context={
                    "user": target,
                    "impersonator": hijacker,
                    "reason": reason,
                    "minutes": state.LIMIT_SECONDS // 60,
                },
                always=True,
            )
    hijack_signals.hijack_started.send(
        sender=None, request=request, hijacker=hijacker, hijacked=target
    )
    return found


def end(*, request: HttpRequest, how: str = How.ENDED) -> state.Impersonation:
    """End this session's impersonation; the administrator is themselves again from the
    next request (``request.user`` is put back now too). ``ImpersonationRefused`` (400)
    when there is none. The session key rotates, except when signing out (the session
    is being deleted)."""
    found = state.read(request)
    if found is None:
        raise ImpersonationRefused("You are not acting as anyone.", status=400)
    users = get_user_model()._base_manager.in_bulk([found.user_id, found.impersonator_id])
    hijacker = users.get(found.impersonator_id)
    target = users.get(found.user_id)
    with transaction.atomic():
        state.clear(request)
        if how != How.SIGNOUT:
            request.session.cycle_key()
        audit(
            Action.IMPERSONATION_ENDED,
            request=request,
            actor=hijacker,
            user=target,
            impersonator=hijacker,
            metadata={
                "reason": found.reason,
                "how": how,
                "minutes": round(
                    max(0.0, min(found.expires_at, time.time()) - found.started_at) / 60
                ),
            },
        )
    if getattr(request, "impersonator", None) is not None:
        request.user = request.impersonator
        request.impersonator = None
        request.impersonation = None
    hijack_signals.hijack_ended.send(
        sender=None, request=request, hijacker=hijacker, hijacked=target
    )
    return found
