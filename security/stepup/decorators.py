"""Declarations that ``security.stepup.middleware.HighSecurityMiddleware`` enforces, as
Django's ``LoginRequiredMiddleware`` enforces what ``login_not_required`` declares.

- ``@high_security("<page_key>")``: a sensitive page of High Security Mode (the keys are
  in security/stepup/pages.py). While the mode is on for the page, the policy table says
  whether the user's role finds it blocked, read-only or open without a fresh step-up
  with a second factor.
- ``@stepup_required``: the page needs a recent step-up with any factor (the password
  too), whether or not High Security Mode is on (session revocation, passkeys). A view may
  carry both.
"""

from __future__ import annotations

from security.stepup import pages


def high_security(page_key: str):
    pages.get(page_key)  # an unknown key fails at import time

    def mark(view):
        view.high_security = page_key
        return view

    return mark


def stepup_required(view):
    view.stepup_required = True
    return view
