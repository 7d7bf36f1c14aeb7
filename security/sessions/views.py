"""Profile > Settings > Sessions: list, revoke (after a step-up), held sign-ins, devices."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import not_while_impersonating
from accounts.tabs import settings_tabs
from panel.prepared import all_together
from security.devices import services as devices
from security.sessions import services as tracked
from security.sessions.models import TrackedSession
from security.stepup import state as stepup_state
from security.stepup.decorators import high_security, stepup_required
from security.suspicious import services as suspicious


def _sessions_and_held(request: HttpRequest) -> tuple[list[TrackedSession], list]:
    """The Sessions tab's two lists, in one database round trip when both are prepared
    lookups (``panel.prepared.all_together``). Held sign-ins are shown (and decided) in
    a trusted browser only."""
    user, token = request.user, devices.current_token(request)
    listed = tracked.listed_lookup(user)
    held = suspicious.pending_for_trusted_browser_lookup(user, token)
    if listed and held:
        rows, held_rows = all_together(listed, held)
    else:
        rows = tracked.listed_rows(user)
        held_rows = suspicious.pending_for_trusted_browser(user, token)
    return _live_sessions(request, rows), held_rows


def _live_sessions(request: HttpRequest, rows: list[TrackedSession]) -> list[TrackedSession]:
    current = tracked.current_id(request)
    for row in rows:
        row.is_current = row.pk == current
    rows.sort(key=lambda r: not r.is_current)  # this browser first
    return rows


@not_while_impersonating
@require_http_methods(["GET"])
def sessions_tab(request: HttpRequest) -> HttpResponse:
    sessions, held = _sessions_and_held(request)
    policy = tracked.policy_for(request.user)
    return render(
        request,
        "security/sessions/sessions.html",
        {
            "settings_tabs": settings_tabs("sessions"),
            "sessions": sessions,
            "held_signins": held,
            "policy": policy,
            "idle_minutes": policy.idle_timeout // 60,
            "absolute_hours": policy.absolute_timeout // 3600,
        },
    )


@not_while_impersonating
@high_security("sessions")
@require_http_methods(["GET", "POST"])
def revoke_session(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then sign one other session out. Needs a step-up within 15 minutes."""
    record = get_object_or_404(tracked.active_for(request.user), pk=pk)
    if record.pk == tracked.current_id(request):
        messages.info(request, "To end this session, use Sign out.")
        return redirect("security:sessions")
    stepup_state.require_recent(request)
    if request.method == "POST":
        tracked.revoke(request=request, record=record)
        messages.success(request, f"The session on {record.device_label} was signed out.")
        return redirect("security:sessions")
    return render(
        request,
        "security/sessions/sessions_revoke.html",
        {"settings_tabs": settings_tabs("sessions"), "record": record},
    )


@not_while_impersonating
@high_security("sessions")
@require_http_methods(["GET", "POST"])
@stepup_required
def revoke_other_sessions(request: HttpRequest) -> HttpResponse:
    listed = tracked.listed_rows(request.user)
    others = [s for s in _live_sessions(request, listed) if not s.is_current]
    if not others:
        messages.info(request, "You have no other sessions.")
        return redirect("security:sessions")
    if request.method == "POST":
        count = tracked.revoke_others(request=request)
        messages.success(request, f"Signed out {count} other session{'s' if count != 1 else ''}.")
        return redirect("security:sessions")
    return render(
        request,
        "security/sessions/sessions_revoke_all.html",
        {"settings_tabs": settings_tabs("sessions"), "others": others},
    )
