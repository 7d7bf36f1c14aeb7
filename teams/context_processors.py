"""The top bar's team switcher: the active team and the others (no query until used)."""

from __future__ import annotations


def teams(request) -> dict:
    return {"teams": getattr(request, "teams", None)}
