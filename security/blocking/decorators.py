"""Which views a blocked address may not POST to (``PolicyMiddleware`` enforces it)."""

from __future__ import annotations


def block_exempt(view):
    """A public POST that checks no secret and must keep working (signing out)."""
    view.block_exempt = True
    return view


def checks_a_secret(view) -> bool:
    """Every public view (a sign-in step, sign-up, a reset, an emailed code) and every
    signed-in page that checks a password or code (``@lockout_guarded``)."""
    if getattr(view, "block_exempt", False):
        return False
    return getattr(view, "login_required", True) is False or getattr(view, "lockout_guarded", False)
