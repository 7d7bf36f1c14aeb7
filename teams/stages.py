"""Team selection in the sign-in pipeline ("credentials, then team selection").

Registered in ``security.signin.stages`` as an after-login hook (order 50, after device
trust and single-session): it runs once the password, the second factor and the
new-device step are all done, whichever path got there (the emailed device code and an
approved held sign-in resume straight into ``complete()``, so a pre-login stage would be
skipped on those paths). A member of one team gets it as the active team; a member of
several is sent by ``TeamMiddleware`` to the team choice page, and reaches nothing else
(but signing out) until they pick one.
"""

from __future__ import annotations

from security.signin import stages

from . import access, session

CHOOSE_KEY = "_choose_team"


def select_team(attempt: stages.Attempt, tracked_session) -> tuple[str, ...]:
    request, user = attempt.request, attempt.user
    access.forget(user)
    found = access.load(user)
    if len(found) == 1:
        session.set_active(request, next(iter(found)))
    elif len(found) > 1:
        request.session[CHOOSE_KEY] = {"next": attempt.next_url or ""}
    return ()


stages.register_after_login("team_selection", select_team, order=50)
