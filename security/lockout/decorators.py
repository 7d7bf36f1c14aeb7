"""Pieces shared by the security views."""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse

from security.lockout import policy as lockout
from security.lockout.axes import locked_response
from security.signin import pipeline as signin


def refuse_while_locked(view):
    """For a signed-in page that checks a code or password: while the user's (IP,
    username) pair is locked, a POST gets the locked page (429, ``Retry-After``) before
    anything is checked. GET still shows the page, and the session stays signed in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            lock = lockout.status_for(request, request.user.get_username())
            if lock.locked:
                return locked_response(request, lock)
        return view(request, *args, **kwargs)

    return wrapped


def refused(request: HttpRequest, *, page: str, factor: str, reason: str) -> HttpResponse | None:
    """Count a refused code or password of a signed-in settings page on the lockout
    (``signin.reauth_failed``). Returns the locked page when this attempt locked the
    pair, else None (the caller shows its form error). A secret that cannot be read is
    not the user's fault and is not counted."""
    if reason == "unreadable":
        return None
    lock = signin.reauth_failed(request, page=page, factor=factor, reason=reason)
    return locked_response(request, lock) if lock.locked else None
