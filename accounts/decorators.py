"""Page declarations that accounts views need and that another app enforces.

``stepup_required`` is the same declaration as ``security.stepup.decorators.stepup_required``
(``view.stepup_required = True``, enforced by ``security.middleware.PolicyMiddleware``):
accounts may not import security, so it declares the attribute itself. Keep the two equal.
"""

from __future__ import annotations


def stepup_required(view):
    view.stepup_required = True
    return view
