"""``@lockout_guarded`` declares that a signed-in page checks a password or code (2FA
settings, the step-up); ``security.middleware.PolicyMiddleware`` enforces the lock on it.

While the user's (IP, username) pair is locked, a POST gets the locked page (429,
``Retry-After``) before anything is checked; GET still shows the page, and the session
stays signed in. A POST also takes one of the pair's attempt slots before the check, as a
sign-in does (``policy.acquire``), so parallel guesses from a stolen session cannot run
past the limit either; a POST that ends without a refused secret gives its slot back.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from security.lockout import policy as lockout
from security.lockout.axes import locked_response


def lockout_guarded(view):
    view.lockout_guarded = True
    return view


def refused(request: HttpRequest, *, page: str, factor: str, reason: str) -> HttpResponse | None:
    """Count a refused code or password of a signed-in settings page on the lockout
    (``policy.reauth_failed``). Returns the locked page when this attempt locked the
    pair, else None (the caller shows its form error). A secret that cannot be read is
    not the user's fault and is not counted."""
    if reason == "unreadable":
        return None
    lock = lockout.reauth_failed(request, page=page, factor=factor, reason=reason)
    return locked_response(request, lock) if lock.locked else None
