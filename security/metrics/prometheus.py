"""``/metrics``: the security metrics of the past 24 hours in the Prometheus text format
(prometheus-client), for operators who already run Prometheus and Grafana.

Public URL (no session), behind ``Authorization: Bearer <METRICS_TOKEN>``; without
``METRICS_TOKEN`` set the endpoint does not exist (404). A wrong or missing token is a
401 that says nothing else.

No ``team`` label: every account owns a team (one is made at sign-up), so a per-team
series would be one per account, the unbounded label cardinality Prometheus warns
against, and each scrape would compute every team's metrics. A team's figures are on its
own dashboard (``/teams/<id>/metrics/``) and its alerts go to its ``system.admin``
holders. The only labels here are bounded: ``metric``/``level`` of the thresholds and
``kind`` of the session errors (three values).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from security.metrics import session_errors
from security.metrics.compute import ALERTED, THRESHOLDS, compute

# metric name in compute -> (Prometheus name, help)
EXPORTED = {
    "signin_success_rate": ("panel_signin_success_ratio", "Successful password sign-ins"),
    "suspicious_rate": ("panel_suspicious_signin_ratio", "Sign-ins held as suspicious"),
    "session_expiry_rate": ("panel_session_expiry_ratio", "Sessions ended by a timeout"),
    "device_auto_approval_rate": (
        "panel_device_auto_approval_ratio",
        "New browsers trusted without an emailed code",
    ),
    "password_reset_rate": ("panel_password_reset_ratio", "Active accounts that reset"),
    "email_failure_rate": ("panel_email_failure_ratio", "Emails that failed for good"),
    "two_factor_coverage": ("panel_two_factor_coverage_ratio", "Active accounts with 2FA"),
    "session_error_rate": (
        "panel_session_error_ratio",
        "Requests that met a session error, of session refreshes",
    ),
}


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and constant_time_compare(given.strip(), token)


def exposition() -> bytes:
    metrics = compute("24h")
    registry = CollectorRegistry(auto_describe=True)
    for name, (prom, text) in EXPORTED.items():
        value = metrics.values.get(name)
        if value is not None:
            gauge = Gauge(prom, f"{text}, past 24 hours (0-1).", registry=registry)
            gauge.set(round(value / 100.0, 4))
    Gauge(
        "panel_session_average_seconds",
        "Average signed-out session duration, past 24 hours.",
        registry=registry,
    ).set((metrics.values.get("average_session_minutes") or 0) * 60)
    Gauge("panel_lockouts", "Lockouts, past 24 hours.", registry=registry).set(
        metrics.values["lockouts"]
    )
    Gauge(
        "panel_failed_signins", "Failed sign-ins and codes, past 24 hours.", registry=registry
    ).set(metrics.counts["failed_signins"])
    Gauge(
        "panel_failed_signins_worst_ip_hour",
        "Failed sign-ins of the worst address in its worst hour, past 24 hours.",
        registry=registry,
    ).set(metrics.values["failed_per_ip_hour"])
    Gauge(
        "panel_session_refreshes",
        "Session refreshes (last-active writes), past 24 hours.",
        registry=registry,
    ).set(metrics.counts.get("session_refreshes", 0))
    errors = Gauge(
        "panel_session_errors",
        "Requests that met a session error, by kind, past 24 hours.",
        ["kind"],
        registry=registry,
    )
    for kind in session_errors.KINDS:
        errors.labels(kind).set(metrics.counts.get(f"session_errors_{kind}", 0))
    Gauge(
        "panel_email_failed_attempts",
        "Email send attempts that failed (SMTP down or refusing; retried or not), past 24 hours.",
        registry=registry,
    ).set(metrics.counts.get("email_failed_attempts", 0))
    Gauge(
        "panel_emails_pending",
        "Emails of the past 24 hours still waiting in the outbox.",
        registry=registry,
    ).set(metrics.counts.get("emails_pending", 0))
    levels = Gauge(
        "panel_metric_threshold",
        "Warning and critical thresholds of the watched metrics (ratios as 0-1).",
        ["metric", "level"],
        registry=registry,
    )
    for name in ALERTED:
        threshold = THRESHOLDS[name]
        scale = 100.0 if threshold.unit == "%" else 1.0
        levels.labels(name, "warning").set(threshold.warning / scale)
        levels.labels(name, "critical").set(threshold.critical / scale)
    return generate_latest(registry)


@login_not_required
@never_cache
@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "METRICS_TOKEN", "")
    if not token:
        raise Http404
    if not _authorized(request, token):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
