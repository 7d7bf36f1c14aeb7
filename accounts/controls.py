"""Account controls: what an administrator (a superuser in the admin or on the command
line, or a team member holding ``user.manage`` for the team's members) may do to an
account, and the owner's own change of email address.

Every service takes keyword-only arguments, runs in one transaction, writes one audit
event and queues its email on commit, like ``accounts.services``. None of them shows or
sets a password: an administrator forces a change (the owner picks the new one), or sends
a reset link (the owner picks it too).

Who may act is the caller's decision (the admin site admits superusers only, the team
services check ``user.manage`` and the escalation rules, an operator runs the commands);
the rules that hold for everyone are checked here: nobody disables or forces a change on
their own account, and a refusal is a ``ControlRefused`` with a message for the user.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from audit.actions import Action
from audit.services import audit
from panel.links import absolute_url

from . import signals
from .emails import send_email
from .models import EmailChange, User
from .services import _reset_context, end_other_sessions

SOURCES = ("admin", "team", "command")


class ControlRefused(Exception):
    """An account control that cannot be done: ``message`` is for the user, ``status``
    the HTTP status a page answers with."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class AlreadyDone(ControlRefused):
    """The account is already in the requested state (disabled, enabled, flagged)."""

    status = 409


def _not_self(actor, user, what: str) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ControlRefused(f"You cannot {what} your own account.", status=403)


def _fresh(user: User) -> User:
    """The account's row, locked until the transaction ends (two administrators acting at
    once see each other's change)."""
    return User.objects.select_for_update().get(pk=user.pk)


# --- Administrators -----------------------------------------------------------------------


def force_password_change(
    *,
    actor: User | None,
    user: User,
    request: HttpRequest | None = None,
    team_id: int | None = None,
    source: str = "admin",
) -> User:
    """Require ``user`` to choose a new password at their next request (signed in now, or
    at their next sign-in): until they do, every page sends them to the change-password
    page. Their sessions stay; nobody learns or sets the password."""
    _not_self(actor, user, "force a password change on")
    with transaction.atomic():
        target = _fresh(user)
        if target.must_change_password:
            raise AlreadyDone(f"{target.username} must already change their password.")
        target.must_change_password = True
        target.save(update_fields=["must_change_password"])
        audit(
            Action.PASSWORD_CHANGE_FORCED,
            request=request,
            actor=actor,
            user=target,
            team_id=team_id,
            metadata={"source": source},
        )
        send_email(
            to=target.email,
            template="password_change_forced",
            context={"user": target, "login_link": absolute_url(reverse("security:login"))},
        )
    user.must_change_password = True
    return target


def disable_account(
    *,
    actor: User | None,
    user: User,
    request: HttpRequest | None = None,
    team_id: int | None = None,
    source: str = "admin",
) -> dict:
    """Disable ``user``: every session and token ends at once, and sign-in answers "This
    account is disabled" (only after the right password). Returns the facts recorded
    (e.g. ``{"sessions_ended": 2}``)."""
    _not_self(actor, user, "disable")
    with transaction.atomic():
        target = _fresh(user)
        if not target.is_active:
            raise AlreadyDone(f"{target.username} is already disabled.")
        # update(), not save(): the receivers of ``account_disabled`` end the sessions and
        # report how many, which a post_save receiver would already have done silently.
        User.objects.filter(pk=target.pk).update(is_active=False)
        target.is_active = False
        facts: dict = {}
        for _receiver, reply in signals.account_disabled.send(
            sender=User, user=target, request=request, actor=actor
        ):
            if isinstance(reply, dict):
                facts.update(reply)
        # The stored sessions too, a half-finished sign-in included (Django already
        # refuses an inactive user's session on its next request).
        facts["stored_sessions_deleted"] = end_other_sessions(target)
        audit(
            Action.ACCOUNT_DISABLED,
            request=request,
            actor=actor,
            user=target,
            team_id=team_id,
            metadata={"source": source, **facts},
        )
        send_email(to=target.email, template="account_disabled", context={"user": target})
    user.is_active = False
    return facts


def enable_account(
    *,
    actor: User | None,
    user: User,
    request: HttpRequest | None = None,
    team_id: int | None = None,
    source: str = "admin",
) -> User:
    """Let a disabled account sign in again (with its password, unchanged)."""
    with transaction.atomic():
        target = _fresh(user)
        if target.is_active:
            raise AlreadyDone(f"{target.username} is not disabled.")
        target.is_active = True
        target.save(update_fields=["is_active"])
        audit(
            Action.ACCOUNT_ENABLED,
            request=request,
            actor=actor,
            user=target,
            team_id=team_id,
            metadata={"source": source},
        )
        send_email(
            to=target.email,
            template="account_enabled",
            context={"user": target, "login_link": absolute_url(reverse("security:login"))},
        )
    user.is_active = True
    return target


def send_password_reset(
    *,
    actor: User | None,
    user: User,
    request: HttpRequest | None = None,
    team_id: int | None = None,
    source: str = "admin",
) -> User:
    """Email ``user`` a password reset link (the same single-use, expiring link as
    "Forgot password"). A disabled account gets none: enable it first."""
    with transaction.atomic():
        target = _fresh(user)
        if not target.is_active:
            raise ControlRefused(
                f"{target.username} is disabled: enable the account before sending a reset link."
            )
        send_email(to=target.email, template="password_reset", context=_reset_context(target))
        audit(
            Action.PASSWORD_RESET_SENT_BY_ADMIN,
            request=request,
            actor=actor,
            user=target,
            team_id=team_id,
            metadata={"source": source},
        )
    return target


# --- The owner changes their email address -------------------------------------------------

CONFIRM_SALT = "accounts.controls.email_change.confirm"
UNDO_SALT = "accounts.controls.email_change.undo"

LINK_MESSAGES = {
    "invalid": "This link is not valid. Check that you copied all of it.",
    "expired": "This link has expired. Ask for the change again from your security settings.",
    "used": "This link has already been used.",
    "replaced": "A newer request replaced this one: use the link of the latest email.",
    "undone": "This change was undone from the old address.",
    "taken": "That address now belongs to another account: the change cannot be finished.",
    "moved": "The account's address changed since this link was sent: it cannot be used.",
}


class EmailChangeLinkRefused(ControlRefused):
    """An emailed confirmation or undo link that cannot be used; ``reason`` is a key of
    ``LINK_MESSAGES``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(LINK_MESSAGES[reason], status=404 if reason == "invalid" else 410)


def confirm_token(change: EmailChange) -> str:
    return signing.dumps({"r": change.pk}, salt=CONFIRM_SALT)


def undo_token(change: EmailChange) -> str:
    return signing.dumps({"r": change.pk}, salt=UNDO_SALT)


def _confirm_link(change: EmailChange) -> str:
    return absolute_url(reverse("accounts:email_change_confirm", args=[confirm_token(change)]))


def _undo_link(change: EmailChange) -> str:
    return absolute_url(reverse("accounts:email_change_undo", args=[undo_token(change)]))


def _hours(seconds: int) -> int:
    return max(1, int(seconds) // 3600)


def request_email_change(*, user: User, new_email: str, request: HttpRequest) -> EmailChange:
    """Start moving ``user`` to ``new_email`` (the caller required a fresh step-up).

    The new address gets a confirmation link (signed, valid EMAIL_CHANGE_TIMEOUT, single
    use); the old one a notice with an undo link (valid EMAIL_CHANGE_UNDO_TIMEOUT). The
    account keeps its address until the link is followed. An address that already has an
    account gets a notice instead of a link, and the page answers the same either way.
    A newer request replaces an older pending one.
    """
    if getattr(request, "impersonator", None) is not None:
        # Whoever acts as the user never moves their account to another mailbox.
        raise PermissionDenied("The email address cannot be changed while impersonating.")
    new_email = User.objects.normalize_email(new_email.strip())
    if new_email.lower() == user.email.lower():
        raise ControlRefused("That is already your email address.")
    taken = User.objects.with_email(new_email).exclude(pk=user.pk).exists()
    with transaction.atomic():
        now = timezone.now()
        EmailChange.objects.filter(
            user=user, confirmed_at__isnull=True, undone_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        change = EmailChange.objects.create(user=user, old_email=user.email, new_email=new_email)
        if taken:
            send_email(
                to=new_email,
                template="email_change_taken",
                context={
                    "email": new_email,
                    "reset_link": absolute_url(reverse("accounts:password_reset")),
                },
            )
        else:
            send_email(
                to=new_email,
                template="email_change_confirm",
                context={
                    "user": user,
                    "new_email": new_email,
                    "link": _confirm_link(change),
                    "valid_hours": _hours(settings.EMAIL_CHANGE_TIMEOUT),
                },
            )
        send_email(
            to=user.email,
            template="email_change_notice",
            context={
                "user": user,
                "new_email": new_email,
                "confirmed": False,
                "undo_link": _undo_link(change),
                "valid_days": max(1, int(settings.EMAIL_CHANGE_UNDO_TIMEOUT) // 86400),
            },
        )
        audit(
            Action.EMAIL_CHANGE_REQUESTED,
            request=request,
            actor=user,
            user=user,
            metadata={"change": change.pk, "new_email": new_email},
        )
    return change


def _read(token: str, *, salt: str, max_age: int) -> EmailChange:
    try:
        data = signing.loads(token or "", salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise EmailChangeLinkRefused("expired") from None
    except signing.BadSignature:
        raise EmailChangeLinkRefused("invalid") from None
    pk = data.get("r") if isinstance(data, dict) else None
    change = (
        EmailChange.objects.select_related("user").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if change is None:
        raise EmailChangeLinkRefused("invalid")
    return change


def read_confirm_link(token: str) -> EmailChange:
    """The pending change a confirmation link names, or ``EmailChangeLinkRefused``."""
    change = _read(token, salt=CONFIRM_SALT, max_age=int(settings.EMAIL_CHANGE_TIMEOUT))
    if change.confirmed_at is not None:
        raise EmailChangeLinkRefused("used")
    if change.undone_at is not None:
        raise EmailChangeLinkRefused("undone")
    if change.superseded_at is not None:
        raise EmailChangeLinkRefused("replaced")
    return change


def read_undo_link(token: str) -> EmailChange:
    """The change an undo link names (pending or confirmed), or ``EmailChangeLinkRefused``."""
    change = _read(token, salt=UNDO_SALT, max_age=int(settings.EMAIL_CHANGE_UNDO_TIMEOUT))
    if change.undone_at is not None:
        raise EmailChangeLinkRefused("used")
    if change.superseded_at is not None:
        raise EmailChangeLinkRefused("replaced")
    return change


def confirm_email_change(*, token: str, request: HttpRequest | None = None) -> EmailChange:
    """Follow the confirmation link: the account moves to the new address (verified,
    since the link reached it). The old address is told, with the undo link again."""
    with transaction.atomic():
        change = read_confirm_link(token)
        change = EmailChange.objects.select_for_update().select_related("user").get(pk=change.pk)
        if not change.pending:
            raise EmailChangeLinkRefused("used")
        user = _fresh(change.user)
        if user.email.lower() != change.old_email.lower():
            raise EmailChangeLinkRefused("moved")
        if User.objects.with_email(change.new_email).exclude(pk=user.pk).exists():
            raise EmailChangeLinkRefused("taken")
        now = timezone.now()
        user.email = change.new_email
        user.email_verified_at = now
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_verified_at"])
        except IntegrityError:  # taken by a concurrent sign-up
            raise EmailChangeLinkRefused("taken") from None
        change.confirmed_at = now
        change.save(update_fields=["confirmed_at"])
        audit(
            Action.EMAIL_CHANGED,
            request=request,
            actor=user,
            user=user,
            metadata={"change": change.pk, "old_email": change.old_email},
        )
        send_email(
            to=change.old_email,
            template="email_change_notice",
            context={
                "user": user,
                "new_email": change.new_email,
                "confirmed": True,
                "undo_link": _undo_link(change),
                "valid_days": max(1, int(settings.EMAIL_CHANGE_UNDO_TIMEOUT) // 86400),
            },
        )
    return change


def undo_email_change(*, token: str, request: HttpRequest | None = None) -> EmailChange:
    """Follow the undo link sent to the old address: a pending change is cancelled, a
    confirmed one is reverted (the old address is the account's again, verified: the link
    reached it). Every session of the account ends either way: whoever asked for the
    change may hold one."""
    with transaction.atomic():
        change = read_undo_link(token)
        change = EmailChange.objects.select_for_update().select_related("user").get(pk=change.pk)
        if change.undone_at is not None:
            raise EmailChangeLinkRefused("used")
        user = _fresh(change.user)
        reverted = False
        if change.confirmed_at is not None:
            if user.email.lower() != change.new_email.lower():
                raise EmailChangeLinkRefused("moved")
            if User.objects.with_email(change.old_email).exclude(pk=user.pk).exists():
                raise EmailChangeLinkRefused("taken")
            user.email = change.old_email
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email", "email_verified_at"])
            reverted = True
        change.undone_at = timezone.now()
        change.save(update_fields=["undone_at"])
        ended = end_other_sessions(user)
        audit(
            Action.EMAIL_CHANGE_UNDONE,
            request=request,
            actor=None,
            user=user,
            metadata={"change": change.pk, "reverted": reverted, "sessions_ended": ended},
        )
    return change
