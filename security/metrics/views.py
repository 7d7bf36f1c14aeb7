"""The security metrics dashboard: panel-wide for superusers here, and for a team's
``system.admin`` holders over the team's members (``teams/views/metrics.py`` calls
``dashboard_context(window, users=...)``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from security.auditlog.access import superuser_required
from security.metrics import charts
from security.metrics.compute import THRESHOLDS, WINDOWS, compute
from security.stepup.decorators import high_security

LEVEL_WORDS = {
    "ok": "OK",
    "below_target": "Below target",
    "warning": "Warning",
    "critical": "Critical",
    "none": "No data",
}
# name -> (title, what it counts)
CARDS = {
    "signin_success_rate": ("Sign-in success rate", "Successful password sign-ins of all tried."),
    "suspicious_rate": ("Suspicious sign-in rate", "Sign-ins held for approval, of all sign-ins."),
    "failed_per_ip_hour": (
        "Failed sign-ins per address and hour",
        "The worst hour of the worst address (top 10 below).",
    ),
    "email_failure_rate": ("Email send failures", "Emails that failed for good, of those sent."),
    "lockouts": ("Lockouts", "Pairs of address and name locked after six failures."),
    "session_expiry_rate": (
        "Session expiry rate",
        "Sessions ended by timeout rather than by signing out, of all ended.",
    ),
    "device_auto_approval_rate": (
        "Device approval rate",
        "New browsers trusted without a code, of all trusted (the rest by emailed code or "
        "approval).",
    ),
    "password_reset_rate": ("Password reset rate", "Active accounts that reset their password."),
    "average_session_minutes": (
        "Average session duration",
        "From sign-in to sign-out, in minutes.",
    ),
    "two_factor_coverage": (
        "Two-factor coverage",
        "Active accounts with an authenticator app, now.",
    ),
    "session_error_rate": (
        "Session errors",
        "Requests that met a session error (a garbled session cookie, a CSRF failure while "
        "signed in, a session deleted mid-request), of all session refreshes.",
    ),
}


def _label(bucket, window: str) -> str:
    return bucket.strftime("%H:00") if window == "24h" else bucket.strftime("%d %b")


def _display(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:g}%"
    return f"{value:g}{unit}"


def dashboard_context(window: str, *, users=None, audit_url: str | None = None) -> dict:
    """The dashboard of ``window``: panel-wide, or over the accounts ``users`` (a
    queryset of user ids). ``audit_url`` links the top addresses to a log filtered by
    them (None: no link)."""
    metrics = compute(window, users=users)
    labels = [_label(b, window) for b in metrics.buckets]
    cards = []
    for name, (title, description) in CARDS.items():
        if name not in metrics.values:
            continue  # not computed for this scope (session errors name no account)
        threshold = THRESHOLDS[name]
        level = metrics.level(name)
        value = metrics.values.get(name)
        series = metrics.series.get(name)
        if name == "failed_per_ip_hour":
            series = None  # drawn as the top-10 bars
        cards.append(
            {
                "name": name,
                "title": title,
                "description": description,
                "value": _display(value, threshold.unit),
                "level": level,
                "level_words": LEVEL_WORDS[level],
                "thresholds": threshold.words(),
                "chart": charts.line(
                    title=title,
                    labels=labels,
                    values=series,
                    warning=threshold.warning,
                    critical=threshold.critical,
                    target=threshold.target
                    if threshold.target not in (threshold.warning,)
                    else None,
                    unit=threshold.unit,
                )
                if series is not None
                else None,
            }
        )
    failed = THRESHOLDS["failed_per_ip_hour"]
    return {
        "metrics": metrics,
        "cards": cards,
        "window": window,
        "windows": list(WINDOWS),
        "top_ips": metrics.top_ips,
        "top_ips_chart": charts.bars(
            title="Failed sign-ins in the worst hour, by address",
            items=[(ip, worst) for ip, _total, worst in metrics.top_ips],
            warning=failed.warning,
            critical=failed.critical,
        ),
        "failed_thresholds": failed.words(),
        "audit_url": audit_url,
    }


@high_security("panel_settings")
@require_GET
@superuser_required
def metrics_dashboard(request: HttpRequest) -> HttpResponse:
    window = request.GET.get("window", "24h")
    if window not in WINDOWS:
        return render(
            request,
            "error.html",
            {"status": 400, "title": "Unknown period", "message": "Choose 24h, 7d or 30d."},
            status=400,
        )
    context = dashboard_context(window, audit_url=reverse("security:audit_log"))
    context["ops_tab"] = "metrics"
    return render(request, "security/metrics/dashboard.html", context)
