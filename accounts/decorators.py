"""Page policies declared by the lowest app whose views need them; the middleware of a
higher app enforces them (as Django's ``login_not_required`` and
``LoginRequiredMiddleware`` split the work).

``stepup_required`` is the same declaration as ``security.stepup.decorators.stepup_required``
(``view.stepup_required = True``, enforced by ``security.middleware.PolicyMiddleware``):
accounts may not import security, so it declares the attribute itself. Keep the two equal.
"""

from __future__ import annotations


def not_while_impersonating(view=None, *, message: str = ""):
    """Declare a page out of reach while an administrator is acting as the user (the
    user's password, email, second factors, passkeys, sessions, API keys and High Security
    settings). ``security.impersonation.middleware.ImpersonationMiddleware`` answers 403
    with an explanation (``message``, or the general one); the decorator only marks the
    view. Use it bare (``@not_while_impersonating``) or with a message."""

    def mark(func):
        func.not_while_impersonating = message or True
        return func

    return mark(view) if view is not None else mark


def stepup_required(view):
    view.stepup_required = True
    return view
