"""``@stepup_required`` declares that a page needs a fresh step-up (within 15 minutes);
``security.middleware.PolicyMiddleware`` enforces it, as Django's
``LoginRequiredMiddleware`` enforces what ``login_not_required`` declares. A signed-in
user without one goes to "Confirm it's you" and comes back. High Security Mode's
per-page rules (ROADMAP) will be declared the same way."""

from __future__ import annotations


def stepup_required(view):
    view.stepup_required = True
    return view
