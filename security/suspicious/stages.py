"""Suspicious sign-ins in the sign-in pipeline (``security.signin.stages``).

The stage: a sign-in from a new country, after impossible travel or during a failure
burst is held for the owner's approval. The after-login hook: the notice of failed
attempts on the account since the previous sign-in.
"""

from __future__ import annotations

from audit.models import AuditEvent
from security.devices import services as devices
from security.sessions.models import TrackedSession
from security.sessions.services import policy_for
from security.signin import pending, stages
from security.signin.outcomes import Held
from security.suspicious import services as suspicious


def hold_a_suspicious_signin(attempt: stages.Attempt) -> Held | None:
    request, user = attempt.request, attempt.user
    if not policy_for(user).suspicious_checks:
        return None
    reasons = suspicious.assess(request, user)
    if not reasons:
        return None
    pending.clear(request)
    suspicious.hold(
        request=request,
        user=user,
        reasons=reasons,
        method=attempt.method,
        next_url=attempt.next_url,
        token=devices.ensure_token(request),
        otp_device=attempt.otp_device,
    )
    return Held(user_id=user.pk, reasons=tuple(reasons))


def failed_attempts_notice(attempt: stages.Attempt, record: TrackedSession) -> tuple[str, ...]:
    """Failed attempts on the account since the previous sign-in (this one is not
    recorded yet when the hooks run)."""
    previous = (
        AuditEvent.objects.filter(
            user=attempt.user, action="signin", outcome=AuditEvent.Outcome.SUCCESS
        )
        .values_list("created_at", flat=True)
        .first()
    )
    if previous is None:
        return ()
    count = suspicious.failures_since(attempt.user, previous)
    if not count:
        return ()
    return (
        f"There {'was' if count == 1 else 'were'} {count} failed attempt"
        f"{'' if count == 1 else 's'} to sign in to your account since your last visit. "
        "If it wasn't you, change your password (Settings › Security lists them).",
    )


stages.register("suspicious", hold_a_suspicious_signin, order=10)
stages.register_after_login("suspicious", failed_attempts_notice, order=30)
