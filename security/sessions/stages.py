"""Sessions in the sign-in pipeline: under SINGLE_SESSION, a completed sign-in ends the
account's other sessions (``security.signin.stages``)."""

from __future__ import annotations

from audit.actions import Action
from audit.services import audit
from security.sessions import services as sessions
from security.sessions.models import TrackedSession
from security.signin import stages


def end_older_sessions(attempt: stages.Attempt, record: TrackedSession) -> tuple[str, ...]:
    user = attempt.user
    if not sessions.policy_for(user).single_session:
        return ()
    ended = sessions.end_others(user, keep=record, reason=sessions.Reason.REPLACED)
    if ended:
        audit(
            Action.SESSIONS_REPLACED, request=attempt.request, user=user, metadata={"count": ended}
        )
    return ()


stages.register_after_login("single_session", end_older_sessions, order=40)
