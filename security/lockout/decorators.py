"""The lock on signed-in pages that check a code or password (2FA settings, step-up)."""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse

from security.lockout import policy as lockout
from security.lockout.axes import locked_response


def refuse_while_locked(view):
    """For a signed-in page that checks a code or password: while the user's (IP,
    username) pair is locked, a POST gets the locked page (429, ``Retry-After``) before
    anything is checked. GET still shows the page, and the session stays signed in.

    A POST also takes one of the pair's attempt slots before the check, as a sign-in
    does (``policy.reserve``), so parallel guesses from a stolen session cannot run past
    the limit either; a POST that ends without a refused secret gives its slot back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST" or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        ip, username = lockout.pair_for(request, request.user.get_username())
        lock = lockout.acquire(request, ip=ip, username=username)
        if lock.locked:
            return locked_response(request, lock)
        try:
            return view(request, *args, **kwargs)
        finally:
            # A refused secret used the slot (count_failure); anything else returns it.
            lockout.release(request)

    return wrapped


def refused(request: HttpRequest, *, page: str, factor: str, reason: str) -> HttpResponse | None:
    """Count a refused code or password of a signed-in settings page on the lockout
    (``policy.reauth_failed``). Returns the locked page when this attempt locked the
    pair, else None (the caller shows its form error). A secret that cannot be read is
    not the user's fault and is not counted."""
    if reason == "unreadable":
        return None
    lock = lockout.reauth_failed(request, page=page, factor=factor, reason=reason)
    return locked_response(request, lock) if lock.locked else None
