"""Passkeys and security keys: registering one, signing in with one (as the second factor
or passwordless), renaming and removing one.

A passkey is a django-otp device (django-otp-webauthn's ``WebAuthnCredential``) beside the
TOTP device and the backup codes, so the sign-in pipeline, the session's verified state
and the audit trail treat it like the others. The ceremonies' challenges live in the
server-side session: each is used once (taken out before it is checked) and expires
(with the pending sign-in, for the second-factor step).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential, WebAuthnUserHandle
from webauthn import base64url_to_bytes, verify_authentication_response
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException

from accounts.emails import send_email
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.prepared import PreparedLookup
from security.exceptions import PasskeyRefused
from security.passkeys.ceremony import PanelWebAuthnHelper
from security.sessions import services as sessions
from security.twofactor.models import EncryptedTOTPDevice

CEREMONY_KEY = "_passkey_ceremony"
# A ceremony not finished in this time is refused (the browser prompt times out sooner).
CEREMONY_SECONDS = 5 * 60
NAME_MAX = 64
# Malformed input a ceremony may raise while parsing or checking what the browser sent.
_BAD_INPUT = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


def passkeys_of(user):
    """The confirmed passkeys of ``user`` (a user or its pk), oldest first."""
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def has_passkey(user) -> bool:
    if user is None or not getattr(user, "pk", None):
        return False
    return passkeys_of(user).exists()


@dataclass(frozen=True)
class PasskeyRow:
    """One line of the Security tab's list."""

    pk: int
    name: str
    kind: str
    created_at: object
    last_used_at: object


def kind_of(credential: WebAuthnCredential) -> str:
    """What the authenticator says it is: a synced passkey (backup eligible: it is copied
    to the user's other devices) or a device-bound security key."""
    return "Synced passkey" if credential.backup_eligible else "Security key"


def rows_for(user, credentials: list[WebAuthnCredential] | None = None) -> list[PasskeyRow]:
    """``credentials``: ``CONFIRMED_PASSKEYS``' rows for ``user`` when read already."""
    if credentials is None:
        credentials = CONFIRMED_PASSKEYS.all(user.pk)
    return [PasskeyRow(c.pk, c.name, kind_of(c), c.created_at, c.last_used_at) for c in credentials]


# passkeys_of(), compiled once (panel.prepared): the Security tab lists them on every view.
CONFIRMED_PASSKEYS = PreparedLookup(WebAuthnCredential, passkeys_of)


# --- The challenge of a ceremony, in the session ------------------------------------------


def _save_ceremony(request, *, purpose: str, state: dict, **extra) -> None:
    request.session[CEREMONY_KEY] = {
        "purpose": purpose,
        "challenge": state["challenge"],
        "at": time.time(),
        **extra,
    }


def _take_ceremony(request, *, purpose: str, user=None) -> dict:
    """The pending ceremony of ``purpose`` (for ``user``), taken out of the session: a
    challenge is checked once whatever the result. Raises ``PasskeyRefused``."""
    data = request.session.pop(CEREMONY_KEY, None)
    if (
        not isinstance(data, dict)
        or data.get("purpose") != purpose
        or not isinstance(data.get("at"), (int, float))
        or time.time() - data["at"] > CEREMONY_SECONDS
        or (user is not None and data.get("user_id") != user.pk)
    ):
        raise PasskeyRefused(
            "no_challenge", "That passkey request has expired. Please try again.", user=user
        )
    return data


def clear_ceremony(request) -> None:
    request.session.pop(CEREMONY_KEY, None)


# --- Registering --------------------------------------------------------------------------


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:NAME_MAX]
    return name or "Passkey"


def register_begin(*, request, user, name: str) -> dict:
    """The options for ``navigator.credentials.create()``; the challenge and the chosen
    name wait in the session."""
    options, state = PanelWebAuthnHelper(request).register_begin(user)
    _save_ceremony(request, purpose="register", state=state, user_id=user.pk, name=clean_name(name))
    return options


def register_complete(*, request, user, data: dict) -> WebAuthnCredential:
    """Check the browser's answer and keep the new passkey. Audited; the user is emailed.
    When it is the account's first second factor, this session counts as verified and
    every other session ends (as turning 2FA on does). Raises ``PasskeyRefused``."""
    ceremony = _take_ceremony(request, purpose="register", user=user)
    had_2fa = _has_second_factor(user)
    helper = PanelWebAuthnHelper(request)
    try:
        with transaction.atomic():
            credential = helper.register_complete(
                user, {"challenge": ceremony["challenge"], "require_user_verification": True}, data
            )
            credential.name = ceremony.get("name") or "Passkey"
            credential.confirmed = True
            credential.save(update_fields=["name", "confirmed"])
            audit(
                Action.PASSKEY_ADDED,
                request=request,
                user=user,
                metadata={"passkey_id": credential.pk, "kind": kind_of(credential)},
            )
            send_email(
                to=user.email,
                template="passkey_added",
                context={"user": user, "name": credential.name},
            )
    except PasskeyRefused:
        raise
    except (*_BAD_INPUT, IntegrityError) as exc:
        # "none" attestation signs nothing the client sends at registration: a credential
        # id that is already registered (to anyone) is refused, never a 500.
        reason = "duplicate" if isinstance(exc, IntegrityError) else "invalid"
        audit(
            Action.PASSKEY_FAILED,
            request=request,
            outcome=AuditEvent.Outcome.FAILURE,
            user=user,
            metadata={"ceremony": "register", "reason": reason},
        )
        raise PasskeyRefused(
            "invalid", "That passkey could not be added. Please try again.", user=user
        ) from None
    if not had_2fa:
        otp_login(request, credential)
        sessions.end_user_sessions(
            user,
            except_session_key=request.session.session_key,
            reason=sessions.Reason.TWO_FACTOR_ENABLED,
            request=request,
        )
    return credential


def _has_second_factor(user) -> bool:
    return EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).exists() or has_passkey(
        user
    )


# --- Signing in ---------------------------------------------------------------------------


def authenticate_begin(*, request, purpose: str, user=None) -> dict:
    """The options for ``navigator.credentials.get()``. ``purpose`` "2fa" (the user is
    known: their credentials are offered) or "passwordless" (discoverable credentials,
    no user named). User verification is required for both."""
    options, state = PanelWebAuthnHelper(request).authenticate_begin(
        user=user, require_user_verification=True
    )
    _save_ceremony(
        request, purpose=purpose, state=state, user_id=user.pk if user is not None else None
    )
    return options


def _credential_for(parsed) -> WebAuthnCredential:
    try:
        return WebAuthnCredential.objects.select_for_update().get(
            credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(parsed.raw_id),
            confirmed=True,
        )
    except WebAuthnCredential.DoesNotExist:
        raise PasskeyRefused("unknown_credential") from None


def authenticate_complete(*, request, purpose: str, data: dict, user=None) -> WebAuthnCredential:
    """Check an assertion: the challenge of this session's ceremony (once), the origin and
    relying party of SITE_URL, the signature, user verification, the owner (``user``
    for the second-factor step; the user handle for passwordless) and the signature
    counter. Returns the credential (a django-otp device), its counter and last use
    updated. Raises ``PasskeyRefused`` (``.user`` is the account concerned, if known)."""
    ceremony = _take_ceremony(request, purpose=purpose, user=user)
    helper = PanelWebAuthnHelper(request)
    try:
        parsed = parse_authentication_credential_json(data)
    except _BAD_INPUT:
        raise PasskeyRefused("malformed", user=user) from None
    with transaction.atomic():
        credential = _credential_for(parsed)
        owner = credential.user
        if user is not None and credential.user_id != user.pk:
            raise PasskeyRefused("other_user", user=user)
        try:
            # The counter is compared below, once the signature is known to be good: a
            # forged assertion must not be able to pass for a cloned authenticator.
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=base64url_to_bytes(ceremony["challenge"]),
                expected_rp_id=helper.get_relying_party_domain(),
                expected_origin=helper.get_allowed_origins(),
                credential_public_key=bytes(credential.public_key),
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        except _BAD_INPUT:
            raise PasskeyRefused("invalid", user=owner) from None
        handle = parsed.response.user_handle
        if user is None and (
            not handle or bytes(handle) != WebAuthnUserHandle.get_handle_for_user(owner)
        ):
            raise PasskeyRefused("user_handle", user=owner)
        stored = credential.sign_count
        new = verified.new_sign_count
        if (new > 0 or stored > 0) and new <= stored:
            raise PasskeyRefused(
                "counter",
                "This passkey was refused: its authenticator may have been copied. "
                "Use another way to sign in and contact support.",
                user=owner,
            )
        credential.sign_count = new
        credential.backup_state = verified.credential_backed_up
        credential.set_last_used_timestamp(commit=False)
        credential.save(update_fields=["sign_count", "backup_state", "last_used_at"])
    return credential


def record_refusal(*, request, refusal: PasskeyRefused, ceremony: str) -> None:
    """Audit a refused ceremony (a counter that went backwards has its own action)."""
    action = (
        Action.PASSKEY_COUNTER_REGRESSED if refusal.reason == "counter" else Action.PASSKEY_FAILED
    )
    audit(
        action,
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=refusal.user,
        metadata={"ceremony": ceremony, "reason": refusal.reason},
    )


# --- Managing -----------------------------------------------------------------------------


def rename(*, request, user, credential: WebAuthnCredential, name: str) -> None:
    with transaction.atomic():
        credential.name = clean_name(name)
        credential.save(update_fields=["name"])
        audit(
            Action.PASSKEY_RENAMED,
            request=request,
            user=user,
            metadata={"passkey_id": credential.pk},
        )


def is_last_factor(user, credential: WebAuthnCredential) -> bool:
    """Whether removing ``credential`` turns two-factor authentication off."""
    return not (
        EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or passkeys_of(user).exclude(pk=credential.pk).exists()
    )


def remove(*, request, user, credential: WebAuthnCredential) -> bool:
    """Remove a passkey (the view has checked the step-up). When it was the last second
    factor, this is turning 2FA off: audited and emailed as such. Returns whether 2FA
    is now off."""
    with transaction.atomic():
        last = is_last_factor(user, credential)
        passkey_id, name = credential.pk, credential.name
        credential.delete()
        audit(
            Action.PASSKEY_REMOVED, request=request, user=user, metadata={"passkey_id": passkey_id}
        )
        if last:
            audit(
                Action.TWO_FACTOR_DISABLED,
                request=request,
                user=user,
                metadata={"method": "passkey_removed"},
            )
            send_email(
                to=user.email,
                template="2fa_disabled",
                context={"user": user, "by_operator": False, "passkey_name": name},
            )
        else:
            send_email(
                to=user.email, template="passkey_removed", context={"user": user, "name": name}
            )
    return last


def remove_all(*, user) -> int:
    """Every passkey of the user (the operator's ``disable_2fa``)."""
    deleted, _ = WebAuthnCredential.objects.filter(user=user).delete()
    return deleted
