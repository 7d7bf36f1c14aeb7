"""Account state changes: sign-up, email verification, password reset and change.

Each service runs in one transaction, writes one audit event and queues its email on
commit (``accounts.emails.send_email``). Nothing secret (a password, a token, a link
holding a token) is passed to the audit trail or to a log line.

Enumeration: sign-up, "send the link again" and "forgot password" answer the same way
whether or not an address has an account; the difference only shows in the mailbox of
the address's owner.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.emails import enqueue
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.links import absolute_url

from . import signals
from .emails import render_email, send_email
from .models import OutboxEmail, User
from .tokens import default_token_generator, make_verification_token, uid_for

logger = logging.getLogger(__name__)

# Names that would look like the panel speaking: a user derived from admin@... gets admin2.
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "root", "system", "support", "security", "staff", "panel"}
)
USERNAME_MAX = 30


# --- Links ------------------------------------------------------------------------------


def verification_link(user: User) -> str:
    return absolute_url(reverse("accounts:verify", kwargs={"token": make_verification_token(user)}))


def password_reset_link(user: User) -> str:
    return absolute_url(
        reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": uid_for(user), "token": default_token_generator.make_token(user)},
        )
    )


# --- Usernames --------------------------------------------------------------------------


def username_base(email: str) -> str:
    """A readable username from an address's local part: ``Jane.Doe+x@`` gives ``jane.doe``."""
    local = email.split("@", 1)[0].split("+", 1)[0].lower()
    base = re.sub(r"[^a-z0-9._-]+", "", local).strip("._-")[:USERNAME_MAX] or "user"
    return base


def unique_username(email: str) -> str:
    """``username_base`` with the lowest free numeric suffix (case-insensitive check)."""
    base = username_base(email)
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    if base not in taken and base not in RESERVED_USERNAMES:
        return base
    n = 2
    while True:
        suffix = str(n)
        candidate = f"{base[: USERNAME_MAX - len(suffix)]}{suffix}"
        if candidate not in taken:
            return candidate
        n += 1


# --- Sign-up and verification -----------------------------------------------------------


def signup(
    *,
    email: str,
    full_name: str,
    password: str,
    request: HttpRequest | None = None,
    send: bool = True,
    extra: dict | None = None,
) -> User | None:
    """Create an unverified account and email its verification link.

    ``extra`` holds the values of the fields other apps added to the form; they get them
    through the ``signed_up`` signal, in this transaction (the teams app creates the
    user's team, which the user owns once the address is verified and they sign in).

    If the address already has an account nothing is created: its owner gets an email
    saying someone tried to sign up (with a fresh verification link when the address is
    still unverified), and None is returned. The caller shows the same page either way.
    ``send=False`` (the per-address rate limit was hit) suppresses only that warning
    email: a new account always gets its verification link, even if earlier attempts
    with form errors used up the address's budget.
    """
    email = User.objects.normalize_email(email.strip())  # lower-cases the domain only
    existing = User.objects.with_email(email).first()
    if existing is not None:
        # Spend the same hashing time as a real sign-up so timing does not tell.
        make_password(password)
        with transaction.atomic():
            audit(
                Action.SIGNUP,
                request=request,
                outcome=AuditEvent.Outcome.FAILURE,
                user=existing,
                metadata={"reason": "email_taken", "notified": send},
            )
            if send and existing.is_active:
                context = {"user": existing, "login_link": absolute_url(reverse("security:login"))}
                context["reset_link"] = absolute_url(reverse("accounts:password_reset"))
                if not existing.email_verified:
                    context["verify_link"] = verification_link(existing)
                send_email(to=existing.email, template="signup_existing", context=context)
        return None

    for _attempt in range(5):
        user = User(
            email=email,
            full_name=full_name.strip(),
            username=unique_username(email),
            email_verified_at=None,
        )
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
                audit(Action.SIGNUP, request=request, actor=user, user=user)
                signals.signed_up.send(
                    sender=User, user=user, request=request, extra=dict(extra or {})
                )
                _send_verification(user)
        except IntegrityError:
            # A concurrent sign-up took the username (or the address): try again.
            if User.objects.with_email(email).exists():
                return None
            continue
        return user
    raise IntegrityError("could not find a free username")


def _verification_context(user: User) -> dict:
    hours = settings.EMAIL_VERIFICATION_TIMEOUT // 3600
    return {"user": user, "link": verification_link(user), "valid_hours": hours}


def _send_verification(user: User) -> OutboxEmail:
    return send_email(to=user.email, template="verify_email", context=_verification_context(user))


def _stand_in_user() -> User:
    """An unsaved user with no password for the paths that send nothing: never saved,
    never emailed."""
    return User(
        pk=0, username="nobody", email="nobody@example.invalid", password=UNUSABLE_PASSWORD_PREFIX
    )


def _render_and_drop(template: str, context: dict) -> None:
    """Do the work of a send and throw it away: the caller built ``context`` (its link
    and token) for a stand-in user; the three parts are rendered here. Nothing is
    written, queued or sent.

    Why (security review H1): "forgot password" and "send the link again" answer the
    same page whether or not an address has an account, but a path that skips the
    token and the rendering answers a few milliseconds sooner, which tells. The
    database writes of a real send (the outbox row, the audit row) are not imitated:
    nothing may be written for an address without an account.
    """
    render_email(template, context)


@transaction.atomic
def verify_email(*, user: User, request: HttpRequest | None = None) -> User:
    """Mark the address verified. The verification token dies with this change."""
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])
    audit(Action.EMAIL_VERIFIED, request=request, actor=user, user=user)
    return user


def resend_verification(
    *, email: str, request: HttpRequest | None = None, send: bool = True
) -> bool:
    """Send a new verification link if ``email`` names an active, unverified account.

    Returns whether an email was queued; the caller must not reveal it.
    """
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is None or user.email_verified or not send:
        # As much work as a send, nothing written (see _render_and_drop).
        _render_and_drop("verify_email", _verification_context(_stand_in_user()))
        return False
    with transaction.atomic():
        _send_verification(user)
        audit(Action.VERIFICATION_RESENT, request=request, actor=None, user=user)
    return True


# --- Password reset ---------------------------------------------------------------------


def request_password_reset(
    *, email: str, request: HttpRequest | None = None, send: bool = True
) -> bool:
    """Email a reset link (valid PASSWORD_RESET_TIMEOUT, single use) to an active account.

    Returns whether an email was queued; the caller must answer the same either way.
    Unknown addresses are not audited (nothing to attach the event to). Every path
    renders one email, so the time taken does not tell either (see _render_and_drop).
    """
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is None:
        _render_and_drop("password_reset", _reset_context(_stand_in_user()))
        return False
    # Also for an account without a usable password (created in the admin): the link
    # is how its owner sets one.
    sent = send
    with transaction.atomic():
        if sent:
            send_email(to=user.email, template="password_reset", context=_reset_context(user))
        else:
            _render_and_drop("password_reset", _reset_context(_stand_in_user()))
        audit(
            Action.PASSWORD_RESET_REQUESTED,
            request=request,
            actor=None,
            user=user,
            metadata={"sent": sent},
        )
    return sent


def _reset_context(user: User) -> dict:
    return {
        "user": user,
        "link": password_reset_link(user),
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }


def reset_password(*, user: User, new_password: str, request: HttpRequest | None = None) -> User:
    """Set a new password from a reset link. Never signs anyone in.

    Every session of the user ends (the old password's session hash no longer matches,
    and the rows are deleted). Following the emailed link proved control of the address,
    so an unverified address becomes verified.
    """
    with transaction.atomic():
        user.set_password(new_password)
        fields = ["password"]
        if user.must_change_password:
            # An administrator asked for a new password: this is one.
            user.must_change_password = False
            fields.append("must_change_password")
        newly_verified = user.email_verified_at is None
        if newly_verified:
            user.email_verified_at = timezone.now()
            fields.append("email_verified_at")
        user.save(update_fields=fields)
        facts = _announce_password_changed(user=user, request=request, how="reset")
        ended = end_other_sessions(user)
        audit(
            Action.PASSWORD_RESET,
            request=request,
            actor=None,
            user=user,
            metadata={"sessions_ended": ended, "email_verified": newly_verified, **facts},
        )
        _send_password_changed(user, how="reset")
    return user


# --- Password change --------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordChanged:
    user: User
    sessions_ended: int
    device_kept: bool  # this browser is still trusted (no emailed code at its next sign-in)


def change_password(*, user: User, new_password: str, request: HttpRequest) -> PasswordChanged:
    """Change the signed-in user's password (the caller checked the current one).

    This session stays signed in (with a new key); every other session of the user ends.
    This browser stays trusted; every other trusted browser is forgotten.
    """
    if getattr(request, "impersonator", None) is not None:
        # An administrator acting as the user never sets their password.
        raise PermissionDenied("A password cannot be changed while impersonating.")
    with transaction.atomic():
        forced = user.must_change_password
        user.set_password(new_password)
        user.must_change_password = False  # an administrator's "change it" is satisfied
        user.save(update_fields=["password", "must_change_password"])
        update_session_auth_hash(request, user)
        # Sessions end and browsers are forgotten by whoever listens (the security app):
        # this browser, where the password was just proved, stays trusted.
        facts = _announce_password_changed(user=user, request=request, how="change")
        ended = end_other_sessions(user, keep_session_key=request.session.session_key)
        device_kept = bool(facts.get("device_kept"))
        audit(
            Action.PASSWORD_CHANGED,
            request=request,
            actor=user,
            user=user,
            # "forced": the change an administrator required (accounts.controls).
            metadata={"sessions_ended": ended, **facts, **({"forced": True} if forced else {})},
        )
        _send_password_changed(user, how="change", device_kept=device_kept)
    return PasswordChanged(user=user, sessions_ended=ended, device_kept=device_kept)


def password_change_failed(*, user: User, request: HttpRequest) -> None:
    """Record a refused change (wrong current password): a failed re-authentication."""
    audit(
        Action.PASSWORD_CHANGED,
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        actor=user,
        user=user,
        metadata={"reason": "wrong_current_password"},
    )


def _send_password_changed(user: User, *, how: str, device_kept: bool = False) -> OutboxEmail:
    return send_email(
        to=user.email,
        template="password_changed",
        context={
            "user": user,
            "how": how,
            "device_kept": device_kept,
            "device_approval": settings.NEW_DEVICE_APPROVAL,
            "when": timezone.now(),
            "reset_link": absolute_url(reverse("accounts:password_reset")),
        },
    )


# --- Sessions ---------------------------------------------------------------------------


def _announce_password_changed(*, user: User, request: HttpRequest | None, how: str) -> dict:
    """Send ``password_changed`` (inside the caller's transaction) and merge what the
    receivers report (e.g. ``{"devices_forgotten": 2, "device_kept": True}``)."""
    facts: dict = {}
    for _receiver, reply in signals.password_changed.send(
        sender=User, user=user, request=request, how=how
    ):
        if isinstance(reply, dict):
            facts.update(reply)
    return facts


def end_other_sessions(user: User, keep_session_key: str | None = None) -> int:
    """Delete every stored session of ``user`` except ``keep_session_key``; return the count.

    Changing the password already invalidates other sessions (Django compares each
    session's hash with the password hash on every request); deleting the rows as well
    removes them from any session list at once, including a half-finished 2FA sign-in.
    Session engines without a database model are left to the hash check.
    """
    engine = import_module(settings.SESSION_ENGINE)
    try:
        Session = engine.SessionStore.get_model_class()
    except AttributeError:
        return 0
    store = engine.SessionStore()
    uid = str(user.pk)
    doomed = []
    for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if row.session_key == keep_session_key:
            continue
        data = store.decode(row.session_data)
        pending = data.get("_pending_signin") or {}
        if data.get("_auth_user_id") == uid or str(pending.get("user_id")) == uid:
            doomed.append(row.session_key)
    if doomed:
        Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


# --- Outbox (admin) ---------------------------------------------------------------------


def requeue_outbox_emails(*, emails, actor: User | None = None, request=None) -> int:
    """Queue unsent outbox emails for another attempt (admin "re-send").

    Sent emails are skipped: their body was cleared after delivery (it may have held a
    one-time link). Failed ones go back to pending with a fresh attempt budget.
    """

    ids = []
    with transaction.atomic():
        for email in emails:
            if email.status == OutboxEmail.Status.SENT or not email.body_text:
                continue
            if email.status == OutboxEmail.Status.FAILED:
                OutboxEmail.objects.filter(pk=email.pk).update(
                    status=OutboxEmail.Status.PENDING, attempts=0
                )
            ids.append(email.pk)
        if ids:
            audit(
                Action.OUTBOX_RESENT,
                request=request,
                actor=actor,
                user=None,
                metadata={"outbox_ids": ids},
            )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: enqueue(pk))
    return len(ids)
