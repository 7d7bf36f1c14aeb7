"""The step-up: a signed-in user confirms who they are again (the password, a current 2FA
code, an unused backup code or a passkey) before a sensitive action. The time of the last
step-up, and whether it proved a second factor ("high security verified", what High
Security Mode asks for), is kept in the server-side session only: nothing the browser
sends can set it.

The switches and the policy table of High Security Mode are changed here too, each by
one audited service."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.actions import Action
from audit.services import audit
from security.exceptions import PasskeyRefused, SecondFactorNeeded
from security.lockout import policy as lockout
from security.passkeys import services as passkeys
from security.stepup import pages, state
from security.twofactor.backup_codes import use_backup_code
from security.twofactor.codes import looks_like_backup_code
from security.twofactor.totp import has_2fa, has_totp, verify_totp

STEPUP_SECONDS = state.STEPUP_SECONDS


def stepup_is_recent(request: HttpRequest) -> bool:
    """Whether the user confirmed who they are in this session in the last 15 minutes."""
    return state.is_recent(request)


def stepup(*, request: HttpRequest, password: str = "", code: str = ""):
    """Check the password (or a current 2FA code, or an unused backup code, which is used
    up) again. On success the step-up time is kept in the session (with a code: "high
    security verified" too) and the key rotates; a wrong answer is audited and counted in
    the sign-in lockout. Returns the lockout status (``.locked``) or True on success."""
    user = request.user
    ok = False
    factor = "password"
    if password:
        ok = user.has_usable_password() and check_password(password, user.password)
    elif code and has_totp(user):
        code = "".join(code.split())
        if looks_like_backup_code(code):
            factor = "backup_code"
            ok = use_backup_code(user=user, code=code, request=request).ok
        else:
            factor = "totp"
            ok = verify_totp(user=user, code=code).ok
    if not ok:
        audit(
            Action.STEPUP,
            request=request,
            outcome="failure",
            user=user,
            metadata={"factor": factor},
        )
        return lockout.record_failure(request, login=user.get_username())
    request.session.cycle_key()
    state.mark(request, second_factor=factor != "password")
    # One event; "high_security_verified" says a second factor was proved.
    audit(
        Action.STEPUP,
        request=request,
        user=user,
        metadata={"factor": factor, "high_security_verified": factor != "password"},
    )
    return True


def stepup_with_passkey(*, request: HttpRequest, data: dict):
    """The step-up with one of the user's passkeys (user verification required), as
    strong as a 2FA code. Returns True, or the lockout status after a refusal (audited and
    counted like a wrong password); ``.message`` on the refusal says what went wrong."""
    user = request.user
    try:
        passkeys.authenticate_complete(request=request, purpose="stepup", user=user, data=data)
    except PasskeyRefused as refusal:
        if refusal.reason == "counter":
            passkeys.record_refusal(request=request, refusal=refusal, ceremony="stepup")
        audit(
            Action.STEPUP,
            request=request,
            outcome="failure",
            user=user,
            metadata={"factor": "passkey", "reason": refusal.reason},
        )
        return lockout.record_failure(request, login=user.get_username())
    request.session.cycle_key()
    state.mark(request, second_factor=True)
    audit(
        Action.STEPUP,
        request=request,
        user=user,
        metadata={"factor": "passkey", "high_security_verified": True},
    )
    return True


# --- High Security Mode: the panel switch and the policy table ------------------------------


def set_panel_high_security(*, enabled: bool, actor=None, request: HttpRequest | None = None):
    """Turn High Security Mode on or off for the whole panel. From a page (``request``),
    turning it on needs 2FA on the actor's own account, and turning it off needs what the
    High Security settings page needs (checked again here). Returns True if it changed."""
    from security.stepup import high_security
    from security.stepup.models import PanelHighSecurity

    if request is not None:
        high_security.require(request, "high_security")
        if enabled and not has_2fa(actor):
            raise SecondFactorNeeded
    with transaction.atomic():
        row, _ = PanelHighSecurity.objects.select_for_update().get_or_create(pk=1)
        if row.enabled == enabled:
            high_security.remember_panel_flag(enabled)
            return False
        row.enabled = enabled
        row.changed_at = timezone.now()
        row.changed_by = actor
        row.save()
        audit(
            Action.HIGH_SECURITY_ENABLED if enabled else Action.HIGH_SECURITY_DISABLED,
            request=request,
            actor=actor,
            metadata={"scope": "panel", "source": "page" if request is not None else "command"},
        )
    high_security.remember_panel_flag(enabled)
    return True


def policy_table() -> list[dict]:
    """Every page key with its action per role (stored cell or the catalogue's default)."""
    from security.stepup.models import HighSecurityRule

    stored = {(r.page_key, r.role): r.action for r in HighSecurityRule.objects.all()}
    return [
        {
            "key": page.key,
            "label": page.label,
            "cells": [
                {
                    "role": role,
                    "action": stored.get((page.key, role), page.default_for(role)),
                    "is_default": (page.key, role) not in stored,
                }
                for role in pages.ROLES
            ],
        }
        for page in pages.PAGES.values()
    ]


def update_policy(*, cells: dict, actor=None, request: HttpRequest | None = None) -> list[dict]:
    """Set cells of the policy table: ``{(page_key, role): action}``. A cell set back to
    its default is removed. One audit event listing what changed; returns that list."""
    from security.stepup import high_security
    from security.stepup.models import HighSecurityRule

    if request is not None:
        high_security.require(request, "high_security")
    for (key, role), action in cells.items():
        pages.get(key)
        if role not in pages.ROLES or action not in pages.ACTIONS:
            raise ValueError(f"Unknown role or action: {role!r}, {action!r}")
    changed: list[dict] = []
    with transaction.atomic():
        stored = {
            (r.page_key, r.role): r
            for r in HighSecurityRule.objects.select_for_update().filter(
                page_key__in={key for key, _ in cells}
            )
        }
        for (key, role), action in sorted(cells.items()):
            row = stored.get((key, role))
            before = row.action if row else pages.get(key).default_for(role)
            if before == action:
                continue
            if action == pages.get(key).default_for(role):
                row.delete()
            elif row is None:
                HighSecurityRule.objects.create(
                    page_key=key, role=role, action=action, updated_by=actor
                )
            else:
                row.action = action
                row.updated_at = timezone.now()
                row.updated_by = actor
                row.save()
            changed.append({"page": key, "role": role, "from": before, "to": action})
        if changed:
            audit(
                Action.HIGH_SECURITY_POLICY_CHANGED,
                request=request,
                actor=actor,
                metadata={"changes": changed},
            )
    return changed
