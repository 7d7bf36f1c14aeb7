"""Threshold alerts: every 5 minutes (Celery beat, ``security.tasks.check_metric_thresholds``)
the watched metrics are compared with their warning and critical levels. A metric that
rises to a level emails the superusers once (and is audited); nothing more is sent while
it stays there or falls back to warning; once it is back within its thresholds, one
"cleared" email says so, and the next crossing emails again.

Watched (docs/security.md): failed sign-ins of one address in the past hour (> 10
warning, > 20 critical), suspicious sign-ins and email send failures over the past 24
hours (> 5% / > 10%, each only once at least ``MIN_SAMPLE`` sign-ins or emails were
decided, so that 1 of 2 is not "50%").

Team scoping (ROADMAP): a team's ``system.admin`` holders get their team's crossings,
kept in ``MetricAlertState`` rows with the team's id.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.emails import send_email
from audit.actions import Action
from audit.services import audit
from security.metrics.compute import THRESHOLDS, compute, failed_per_ip_last_hour
from security.metrics.models import MetricAlertState

RANK = {"none": 0, "ok": 0, "below_target": 0, "warning": 1, "critical": 2}
MIN_SAMPLE = 20
TITLES = {
    "failed_per_ip_hour": "Failed sign-ins from one address in the past hour",
    "suspicious_rate": "Suspicious sign-ins in the past 24 hours",
    "email_failure_rate": "Email send failures in the past 24 hours",
}


@dataclass(frozen=True)
class Reading:
    metric: str
    value: float | None
    level: str
    detail: str = ""


def readings(*, now=None) -> list[Reading]:
    now = now or timezone.now()
    ip, worst = failed_per_ip_last_hour(now=now)
    day = compute("24h", now=now)
    out = [
        Reading(
            "failed_per_ip_hour",
            worst,
            THRESHOLDS["failed_per_ip_hour"].level(worst),
            f"{worst} from {ip}" if ip else "",
        )
    ]
    sample = {
        "suspicious_rate": day.counts["signins"] + day.counts["held"],
        "email_failure_rate": day.counts.get("emails_decided", 0),
    }
    for name in ("suspicious_rate", "email_failure_rate"):
        value = day.values[name]
        level = THRESHOLDS[name].level(value) if sample[name] >= MIN_SAMPLE else "none"
        out.append(Reading(name, value, level, f"{value}% of {sample[name]}"))
    return out


def _state(metric: str) -> MetricAlertState:
    try:
        with transaction.atomic():
            return MetricAlertState.objects.get_or_create(metric=metric, team_id=None)[0]
    except IntegrityError:  # a parallel run made it
        return MetricAlertState.objects.get(metric=metric, team_id=None)


def _notify(reading: Reading, *, cleared: bool) -> int:
    recipients = list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    for user in recipients:
        send_email(
            to=user.email,
            template="metric_alert",
            context={
                "user": user,
                "title": TITLES[reading.metric],
                "level": "cleared" if cleared else reading.level,
                "value": reading.value,
                "detail": reading.detail,
                "thresholds": THRESHOLDS[reading.metric].words(),
                "when": timezone.now(),
            },
        )
    return len(recipients)


def check_thresholds(*, now=None) -> dict[str, str]:
    """Compare, email on a crossing or a clearing, remember. Returns metric -> what was
    done ("alert", "cleared" or "")."""
    done = {}
    for reading in readings(now=now):
        _state(reading.metric)
        with transaction.atomic():
            state = MetricAlertState.objects.select_for_update().get(
                metric=reading.metric, team_id=None
            )
            before, after = RANK.get(state.level, 0), RANK[reading.level]
            action = ""
            if after > before:
                action = "alert"
            elif after == 0 and before > 0:
                action = "cleared"
            if action:
                sent = _notify(reading, cleared=action == "cleared")
                audit(
                    Action.METRIC_ALERT if action == "alert" else Action.METRIC_CLEARED,
                    metadata={
                        "metric": reading.metric,
                        "level": reading.level,
                        "value": reading.value,
                        "recipients": sent,
                    },
                )
            state.level = "ok" if after == 0 else reading.level
            state.value = reading.value
            state.save(update_fields=["level", "value", "changed_at"])
            done[reading.metric] = action
    return done
