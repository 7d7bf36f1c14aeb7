"""When this session last confirmed who the user is (the step-up). Kept in the server-side
session only: nothing the browser sends can set it."""

from __future__ import annotations

import time

from django.http import HttpRequest

from security.exceptions import StepUpRequired

STEPUP_KEY = "_stepup_at"
STEPUP_SECONDS = 15 * 60


def is_recent(request: HttpRequest) -> bool:
    """Whether the user stepped up in this session within the last STEPUP_SECONDS."""
    at = request.session.get(STEPUP_KEY)
    return isinstance(at, (int, float)) and 0 <= time.time() - at <= STEPUP_SECONDS


def mark(request: HttpRequest) -> None:
    request.session[STEPUP_KEY] = time.time()


def require_recent(request: HttpRequest) -> None:
    """Raise ``StepUpRequired`` (the policy middleware answers with "Confirm it's you")
    unless the user stepped up recently. For views that must look their object up first
    (another user's id is a 404, not a step-up page) and for services checking again."""
    if not is_recent(request):
        raise StepUpRequired
