"""Threshold alerts: every 5 minutes (Celery beat, ``security.tasks.check_metric_thresholds``)
the watched metrics are compared with their warning and critical levels. A metric that
rises to a level emails the superusers once (and is audited); nothing more is sent while
it stays there or falls back to warning; once it is back within its thresholds, one
"cleared" email says so, and the next crossing emails again.

Watched (docs/security.md): failed sign-ins of one address in the past hour (> 10
warning, > 20 critical), suspicious sign-ins and email send failures over the past 24
hours (> 5% / > 10%, each only once at least ``MIN_SAMPLE`` sign-ins or emails were
decided, so that 1 of 2 is not "50%").

Session errors (``session_errors``) are watched panel-wide too, over the past 24 hours
once ``MIN_SAMPLE`` refreshes were counted.

Teams: the teams app registers a provider (``register_team_scopes``; this app must not
import teams) naming, for each team, its members and its ``system.admin`` holders. Each
team's failed sign-ins per address (against its members), suspicious sign-ins (of its
members) and email failures (to its members) are compared with the same thresholds and
emailed to that team's holders only, once per crossing and once when it clears, with a
``MetricAlertState`` row per (metric, team). The superusers keep getting the panel-wide
crossings. A team costs about a dozen small queries a run (three readings, its three states).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.emails import send_email
from accounts.models import OutboxEmail
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.metrics.compute import THRESHOLDS, compute, failed_per_ip_last_hour, rate
from security.metrics.models import MetricAlertState

RANK = {"none": 0, "ok": 0, "below_target": 0, "warning": 1, "critical": 2}
MIN_SAMPLE = 20
TITLES = {
    "failed_per_ip_hour": "Failed sign-ins from one address in the past hour",
    "suspicious_rate": "Suspicious sign-ins in the past 24 hours",
    "email_failure_rate": "Email send failures in the past 24 hours",
    "session_error_rate": "Session errors in the past 24 hours",
}
TEAM_METRICS = ("failed_per_ip_hour", "suspicious_rate", "email_failure_rate")


@dataclass(frozen=True)
class TeamScope:
    """One team as the alerts see it: its id and name, its members (a queryset of user
    ids) and who is told (a queryset of users: its ``system.admin`` holders)."""

    team_id: int
    name: str
    users: object
    recipients: object
    path: str = ""


_team_scopes: list[Callable[[], Iterable[TeamScope]]] = []


def register_team_scopes(provider: Callable[[], Iterable[TeamScope]]) -> None:
    _team_scopes[:] = [provider]


def team_scopes() -> Iterable[TeamScope]:
    return _team_scopes[0]() if _team_scopes else ()


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
        "session_error_rate": day.counts.get("session_refreshes", 0),
    }
    for name in ("suspicious_rate", "email_failure_rate", "session_error_rate"):
        value = day.values[name]
        level = THRESHOLDS[name].level(value) if sample[name] >= MIN_SAMPLE else "none"
        out.append(Reading(name, value, level, f"{value}% of {sample[name]}"))
    return out


def team_readings(users, *, now=None) -> list[Reading]:
    """The watched metrics of one team's members over the same periods (three queries):
    failed sign-ins against them per address in the past hour, their suspicious
    sign-ins and the emails to their addresses over 24 hours."""
    now = now or timezone.now()
    since = now - timedelta(hours=24)
    ip, worst = failed_per_ip_last_hour(now=now, users=users)
    out = [
        Reading(
            "failed_per_ip_hour",
            worst,
            THRESHOLDS["failed_per_ip_hour"].level(worst),
            f"{worst} from {ip}" if ip else "",
        )
    ]
    signins = AuditEvent.objects.filter(
        created_at__gte=since, created_at__lte=now, user_id__in=users
    ).aggregate(
        ok=Count("id", filter=Q(action=Action.SIGNIN, outcome=AuditEvent.Outcome.SUCCESS)),
        held=Count("id", filter=Q(action=Action.SUSPICIOUS_SIGNIN_HELD)),
    )
    emails = (
        OutboxEmail.objects.filter(created_at__gte=since, created_at__lte=now)
        .filter(recipient__in=get_user_model().objects.filter(pk__in=users).values("email"))
        .aggregate(
            failed=Count("id", filter=Q(status=OutboxEmail.Status.FAILED)),
            decided=Count("id", filter=~Q(status=OutboxEmail.Status.PENDING)),
        )
    )
    for name, part, whole in (
        ("suspicious_rate", signins["held"], signins["ok"] + signins["held"]),
        ("email_failure_rate", emails["failed"], emails["decided"]),
    ):
        value = rate(part, whole)
        level = THRESHOLDS[name].level(value) if whole >= MIN_SAMPLE else "none"
        out.append(Reading(name, value, level, f"{value}% of {whole}"))
    return out


def _state(metric: str, team_id: int | None = None) -> MetricAlertState:
    try:
        with transaction.atomic():
            return MetricAlertState.objects.get_or_create(metric=metric, team_id=team_id)[0]
    except IntegrityError:  # a parallel run made it
        return MetricAlertState.objects.get(metric=metric, team_id=team_id)


def _superusers():
    return get_user_model().objects.filter(is_superuser=True, is_active=True)


def _notify(reading: Reading, *, cleared: bool, scope: TeamScope | None = None) -> int:
    people = scope.recipients if scope is not None else _superusers()
    recipients = list(people.filter(is_active=True).exclude(email="").order_by("pk"))
    title = TITLES[reading.metric]
    if scope is not None:
        title = f"{title} in the team {scope.name}"
    for user in recipients:
        send_email(
            to=user.email,
            template="metric_alert",
            context={
                "user": user,
                "title": title,
                "path": scope.path if scope is not None else "",
                "level": "cleared" if cleared else reading.level,
                "value": reading.value,
                "detail": reading.detail,
                "thresholds": THRESHOLDS[reading.metric].words(),
                "when": timezone.now(),
            },
        )
    return len(recipients)


def check_thresholds(*, now=None) -> dict[str, str]:
    """Compare, email on a crossing or a clearing, remember: panel-wide, then for each
    registered team. Returns metric (``team:<id>:<metric>`` for a team's) -> what was
    done ("alert", "cleared" or "")."""
    done = _check(readings(now=now), scope=None)
    for scope in team_scopes():
        found = _check(team_readings(scope.users, now=now), scope=scope)
        done.update({f"team:{scope.team_id}:{metric}": action for metric, action in found.items()})
    return done


def _check(found: list[Reading], *, scope: TeamScope | None) -> dict[str, str]:
    done = {}
    team_id = scope.team_id if scope is not None else None
    for reading in found:
        _state(reading.metric, team_id)
        with transaction.atomic():
            state = MetricAlertState.objects.select_for_update().get(
                metric=reading.metric, team_id=team_id
            )
            before, after = RANK.get(state.level, 0), RANK[reading.level]
            action = ""
            if after > before:
                action = "alert"
            elif after == 0 and before > 0:
                action = "cleared"
            if action:
                sent = _notify(reading, cleared=action == "cleared", scope=scope)
                audit(
                    Action.METRIC_ALERT if action == "alert" else Action.METRIC_CLEARED,
                    team_id=team_id,
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
