"""A form post that High Security Mode refused, kept in the server-side session so that
after the step-up the user can send it again with one click (a fresh CSRF token, the same
fields) instead of filling it in again.

Kept only when that is safe: a plain form (no file), small, and with no field that looks
like a secret (a password, a code, a token): those are never stored. Only one is kept, for
``STEPUP_SECONDS``, and it is offered only for the page the step-up returns to.
"""

from __future__ import annotations

import re
import time

from django.http import HttpRequest

from panel.links import safe_next
from security.stepup.state import STEPUP_SECONDS

RESUME_KEY = "_hs_resume"
MAX_FIELDS = 50
MAX_CHARS = 8000
# A field named like a secret (password, new_password1, code, token, ...) is never kept.
SECRET_NAME = re.compile(r"(^|_)(password\d?|passphrase|code|token|secret|credential|otp)$", re.I)


def _safe_fields(request: HttpRequest) -> list[list[str]] | None:
    if request.FILES or request.content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return None
    fields = []
    for name, values in request.POST.lists():
        if name == "csrfmiddlewaretoken":
            continue
        if SECRET_NAME.search(name):
            return None
        fields.extend([name, value] for value in values)
    if len(fields) > MAX_FIELDS or sum(len(n) + len(v) for n, v in fields) > MAX_CHARS:
        return None
    return fields


def keep(request: HttpRequest) -> bool:
    """Keep this refused POST for after the step-up, if safe. True if kept."""
    fields = _safe_fields(request)
    if fields is None:
        request.session.pop(RESUME_KEY, None)
        return False
    request.session[RESUME_KEY] = {
        "path": request.get_full_path(),
        "fields": fields,
        # The page the form was on (when it is ours): where "Cancel" goes.
        "back": safe_next(request, request.headers.get("referer"), ""),
        "at": time.time(),
    }
    return True


def kept_for(request: HttpRequest, path: str) -> bool:
    kept = request.session.get(RESUME_KEY)
    return isinstance(kept, dict) and kept.get("path") == path


def take(request: HttpRequest, path: str) -> dict | None:
    """The kept post for ``path`` (removed from the session), or None."""
    kept = request.session.pop(RESUME_KEY, None)
    if not isinstance(kept, dict) or kept.get("path") != path:
        return None
    at = kept.get("at")
    if not isinstance(at, (int, float)) or time.time() - at > STEPUP_SECONDS:
        return None
    return kept
