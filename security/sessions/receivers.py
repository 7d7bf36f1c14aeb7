"""Glue between the auth and accounts signals and tracked sessions (no logic here)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.signals import account_disabled, password_changed
from security.sessions import services as sessions
from security.sessions.models import TrackedSession


@receiver(user_logged_in, dispatch_uid="security.sessions.logged_in")
def _track_new_session(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.start_session(request, user)


@receiver(user_logged_out, dispatch_uid="security.sessions.logged_out")
def _end_signed_out_session(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    record = sessions.current(request)
    if record is not None and record.ended_at is None:
        sessions.end_session(record, reason=TrackedSession.EndReason.SIGNOUT, request=request)


@receiver(
    post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="security.sessions.user_disabled"
)
def _end_sessions_of_disabled_user(sender, instance, created, **kwargs) -> None:
    if not created and not instance.is_active:
        sessions.end_user_sessions(instance, reason=TrackedSession.EndReason.DISABLED)


@receiver(password_changed, dispatch_uid="security.sessions.password_changed")
def _end_sessions_after_a_new_password(sender, user, request, how, **kwargs) -> None:
    """Every tracked session of the user ends (reason "password_change"), except this
    one after a change; its key has just rotated, so its stored hash follows first."""
    keep = None
    if how == "change" and request is not None:
        sessions.key_rotated(request)
        keep = request.session.session_key
    sessions.end_user_sessions(
        user,
        except_session_key=keep,
        reason=TrackedSession.EndReason.PASSWORD_CHANGE,
        request=request,
    )
    return None


@receiver(account_disabled, dispatch_uid="security.sessions.account_disabled")
def _end_sessions_of_a_disabled_account(sender, user, request=None, **kwargs) -> dict:
    """Every tracked session of the account ends at once (reason "disabled"): each browser
    is signed out, with that reason, on its next request."""
    ended = sessions.end_user_sessions(
        user, reason=TrackedSession.EndReason.DISABLED, request=request
    )
    return {"sessions_ended": ended}
