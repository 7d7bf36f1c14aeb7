"""Page policies declared by the lowest app whose views need them; the middleware of a
higher app enforces them (as Django's ``login_not_required`` and
``LoginRequiredMiddleware`` split the work)."""

from __future__ import annotations


def not_while_impersonating(view):
    """Declare a page out of reach while an administrator is acting as the user (the
    user's password, email, second factors, passkeys, sessions, API keys and High Security
    settings). ``security.impersonation.middleware.ImpersonationMiddleware`` answers 403
    with an explanation; the decorator only marks the view."""
    view.not_while_impersonating = True
    return view
