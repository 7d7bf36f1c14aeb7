"""The security metrics of a time window, computed from indexed aggregates.

Audit events are read from hourly counts (``security.metrics.rollup``: whole hours
counted once, the current hour live); the other sources with one grouped query each over
an indexed time column (ended sessions, outbox emails, failures by address and hour), so
a 30-day view reads hundreds of counts, not every event. The
numbers, targets and thresholds come from the product document ("Operational Metrics",
"Alerting Thresholds"); docs/security.md lists how each one is counted.

Scoping: ``users`` (a queryset of user ids: a team's members, given by the teams app,
which this app must not import) narrows every metric to those accounts: the events that
happened to them (counted live from the ``(user, created_at)`` index, not the rollup,
which is panel-wide), their sessions, the emails sent to their addresses, their 2FA.
A team's own events (``team_id``) are team administration, not sign-ins, so they would
leave a team's sign-in metrics empty; ``team_id`` still narrows to them where a caller
wants that. Failures for a typed name that is no account, and session errors, name no
account and stay on the panel-wide dashboard only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from accounts.models import OutboxEmail
from audit.actions import Action
from audit.models import AuditEvent
from security.metrics import rollup, session_errors
from security.sessions.models import TrackedSession
from security.twofactor.models import EncryptedTOTPDevice

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
FAILED_ACTIONS = (Action.SIGNIN, Action.TWO_FACTOR_FAILED, Action.NEW_DEVICE_CODE_FAILED)
AUTO_TRUST = ("first_signin", "signin")


@dataclass(frozen=True)
class Threshold:
    """Levels of one metric: ``higher_is_worse`` decides which side crosses."""

    warning: float | None = None
    critical: float | None = None
    target: float | None = None
    higher_is_worse: bool = True
    unit: str = "%"

    def level(self, value: float | None) -> str:
        if value is None:
            return "none"
        worse = (lambda v, t: v > t) if self.higher_is_worse else (lambda v, t: v < t)
        if self.critical is not None and worse(value, self.critical):
            return "critical"
        if self.warning is not None and worse(value, self.warning):
            return "warning"
        if self.target is not None and worse(value, self.target):
            return "below_target"
        return "ok"

    def words(self) -> str:
        sign = ">" if self.higher_is_worse else "<"
        good = "<" if self.higher_is_worse else ">"
        parts = []
        if self.target is not None:
            parts.append(f"target {good} {self.target:g}{self.unit}")
        if self.warning is not None:
            parts.append(f"warning {sign} {self.warning:g}{self.unit}")
        if self.critical is not None:
            parts.append(f"critical {sign} {self.critical:g}{self.unit}")
        return ", ".join(parts) or "tracked, no target"


THRESHOLDS = {
    "signin_success_rate": Threshold(target=95, higher_is_worse=False),
    "session_expiry_rate": Threshold(target=80, higher_is_worse=False),
    "device_auto_approval_rate": Threshold(),
    "suspicious_rate": Threshold(target=5, warning=5, critical=10),
    "password_reset_rate": Threshold(),
    "average_session_minutes": Threshold(unit=" min"),
    "failed_per_ip_hour": Threshold(warning=10, critical=20, unit="/hour"),
    "lockouts": Threshold(unit=""),
    "email_failure_rate": Threshold(warning=5, critical=10),
    "two_factor_coverage": Threshold(unit="%"),
    "session_error_rate": Threshold(warning=1, critical=5),
}
# The metrics the alert task watches (those with warning and critical levels).
ALERTED = ("suspicious_rate", "failed_per_ip_hour", "email_failure_rate", "session_error_rate")


def rate(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Metrics:
    window: str
    since: datetime
    until: datetime
    buckets: list[datetime]
    values: dict[str, float | None] = field(default_factory=dict)
    # metric -> one value per bucket (None where nothing happened)
    series: dict[str, list[float | None]] = field(default_factory=dict)
    # (ip, failures in the window, the worst hour)
    top_ips: list[tuple[str, int, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def level(self, name: str) -> str:
        return THRESHOLDS[name].level(self.values.get(name))


def _buckets(since: datetime, until: datetime, hourly: bool) -> list[datetime]:
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    start = since.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        start = start.replace(hour=0)
    out = []
    while start <= until:
        out.append(start)
        start += step
    return out


def compute(window: str = "24h", *, now=None, team_id: int | None = None, users=None) -> Metrics:
    """The metrics of ``window`` ending ``now``: panel-wide, or for the accounts ``users``
    (a queryset of user ids) or the events of ``team_id``."""
    now = now or timezone.now()
    # Whole hours: the window starts at the top of the hour it would start in.
    since = rollup.hour_of(now - WINDOWS[window])
    hourly = window == "24h"
    trunc = TruncHour if hourly else TruncDay
    metrics = Metrics(window=window, since=since, until=now, buckets=_buckets(since, now, hourly))
    index = {b: i for i, b in enumerate(metrics.buckets)}
    empty = lambda: [0] * len(metrics.buckets)  # noqa: E731

    events = AuditEvent.objects.filter(created_at__gte=since, created_at__lte=now)
    if team_id is not None:
        events = events.filter(team_id=team_id)
    if users is not None:
        events = events.filter(user_id__in=users)

    # 1. Audit events by action, outcome and bucket: whole hours from the hourly rollup
    #    (security.metrics.rollup), the current hour live.
    per = defaultdict(empty)
    trusted = defaultdict(empty)
    day_of = (lambda h: h) if hourly else (lambda h: h.replace(hour=0))
    if users is not None:
        counted = rollup.live_counts(events)
    else:
        counted = rollup.counts(since, now, team_id=team_id, daily=not hourly)
    for (hour, action, outcome, via), n in counted.items():
        i = index.get(day_of(hour))
        if i is None:
            continue
        if action == Action.DEVICE_TRUSTED:
            trusted["auto" if via in AUTO_TRUST else "code"][i] += n
        else:
            per[(action, outcome)][i] += n
    ok = per[(Action.SIGNIN, AuditEvent.Outcome.SUCCESS)]
    failed = per[(Action.SIGNIN, AuditEvent.Outcome.FAILURE)]
    held = per[(Action.SUSPICIOUS_SIGNIN_HELD, AuditEvent.Outcome.SUCCESS)]
    locks = per[(Action.LOCKOUT, AuditEvent.Outcome.DENIED)]
    failures_all = [
        a + b + c
        for a, b, c in zip(
            failed,
            per[(Action.TWO_FACTOR_FAILED, AuditEvent.Outcome.FAILURE)],
            per[(Action.NEW_DEVICE_CODE_FAILED, AuditEvent.Outcome.FAILURE)],
            strict=True,
        )
    ]
    metrics.values["signin_success_rate"] = rate(sum(ok), sum(ok) + sum(failed))
    metrics.series["signin_success_rate"] = [
        rate(a, a + b) for a, b in zip(ok, failed, strict=True)
    ]
    # A held sign-in is a sign-in attempt with the right password that was flagged.
    metrics.values["suspicious_rate"] = rate(sum(held), sum(ok) + sum(held))
    metrics.series["suspicious_rate"] = [rate(h, a + h) for a, h in zip(ok, held, strict=True)]
    metrics.values["lockouts"] = sum(locks)
    metrics.series["lockouts"] = locks
    metrics.series["failed_signins"] = failures_all
    metrics.counts.update(
        signins=sum(ok), failed_signins=sum(failures_all), held=sum(held), lockouts=sum(locks)
    )

    # 2. Browsers trusted automatically, or by an emailed code or an approval.
    auto, code = trusted["auto"], trusted["code"]
    metrics.values["device_auto_approval_rate"] = rate(sum(auto), sum(auto) + sum(code))
    metrics.series["device_auto_approval_rate"] = [
        rate(a, a + c) for a, c in zip(auto, code, strict=True)
    ]

    # 3. Password resets: accounts that used one (counted in the database), of the active
    #    accounts; the series counts resets per bucket from the rollup.
    accounts = get_user_model().objects.filter(is_active=True)
    if users is not None:
        accounts = accounts.filter(pk__in=users)
    active_users = accounts.count()
    reset_users = (
        events.filter(action=Action.PASSWORD_RESET, user__isnull=False).aggregate(
            n=Count("user_id", distinct=True)
        )["n"]
        or 0
    )
    resets = per[(Action.PASSWORD_RESET, AuditEvent.Outcome.SUCCESS)]
    metrics.values["password_reset_rate"] = rate(reset_users, active_users)
    metrics.series["password_reset_rate"] = [rate(n, active_users) for n in resets]

    # 4. Sessions that ended in the window: by reason and bucket, with their durations.
    ended = defaultdict(empty)
    signout_seconds = empty()
    sessions = TrackedSession.objects.filter(ended_at__gte=since, ended_at__lte=now)
    if users is not None:
        sessions = sessions.filter(user_id__in=users)
    for row in sessions.values("end_reason", bucket=trunc("ended_at")).annotate(
        n=Count("id"), total=Sum(F("ended_at") - F("created_at"))
    ):
        if row["bucket"] not in index:
            continue
        i = index[row["bucket"]]
        ended[row["end_reason"]][i] += row["n"]
        if row["end_reason"] == TrackedSession.EndReason.SIGNOUT and row["total"] is not None:
            total = row["total"]
            signout_seconds[i] += (
                total.total_seconds() if hasattr(total, "total_seconds") else total / 1e6
            )
    timed_out = [
        a + b
        for a, b in zip(
            ended[TrackedSession.EndReason.IDLE],
            ended[TrackedSession.EndReason.EXPIRED],
            strict=True,
        )
    ]
    signed_out = ended[TrackedSession.EndReason.SIGNOUT]
    all_ended = [sum(col) for col in zip(*ended.values(), strict=True)] if ended else empty()
    metrics.values["session_expiry_rate"] = rate(sum(timed_out), sum(all_ended))
    metrics.series["session_expiry_rate"] = [
        rate(t, a) for t, a in zip(timed_out, all_ended, strict=True)
    ]
    metrics.values["average_session_minutes"] = (
        round(sum(signout_seconds) / sum(signed_out) / 60, 1) if sum(signed_out) else None
    )
    metrics.series["average_session_minutes"] = [
        round(s / n / 60, 1) if n else None
        for s, n in zip(signout_seconds, signed_out, strict=True)
    ]

    # 5. Email sends that failed, of those decided (sent or failed). The same query
    #    counts the attempts that failed (SMTP down or refusing: every attempt but the
    #    one that sent) and the emails still waiting, so an outage that retries end up
    #    delivering still shows while it lasts.
    mail_ok, mail_failed = empty(), empty()
    failed_attempts = pending = 0
    mails = OutboxEmail.objects.filter(created_at__gte=since, created_at__lte=now)
    if users is not None:
        mails = mails.filter(recipient__in=accounts.values("email"))
    for row in mails.values("status", bucket=trunc("created_at")).annotate(
        n=Count("id"), tries=Sum("attempts")
    ):
        sent_rows = row["n"] if row["status"] == OutboxEmail.Status.SENT else 0
        failed_attempts += max((row["tries"] or 0) - sent_rows, 0)
        if row["status"] == OutboxEmail.Status.PENDING:
            pending += row["n"]
        if row["bucket"] in index:
            target = mail_failed if row["status"] == OutboxEmail.Status.FAILED else mail_ok
            if row["status"] != OutboxEmail.Status.PENDING:
                target[index[row["bucket"]]] += row["n"]
    metrics.values["email_failure_rate"] = rate(sum(mail_failed), sum(mail_ok) + sum(mail_failed))
    metrics.counts["emails_decided"] = sum(mail_ok) + sum(mail_failed)
    metrics.counts["email_failed_attempts"] = failed_attempts
    metrics.counts["emails_pending"] = pending
    metrics.series["email_failure_rate"] = [
        rate(f, o + f) for o, f in zip(mail_ok, mail_failed, strict=True)
    ]

    # 6. Failed sign-ins per address and hour: the ten addresses with the worst hour,
    #    aggregated twice in the database (per address and hour, then per address).
    metrics.top_ips = worst_addresses(since=since, until=now, team_id=team_id, users=users)
    metrics.values["failed_per_ip_hour"] = metrics.top_ips[0][2] if metrics.top_ips else 0

    # 7. Two-factor coverage now: active accounts with a confirmed authenticator.
    devices = EncryptedTOTPDevice.objects.filter(confirmed=True, user__is_active=True)
    if users is not None:
        devices = devices.filter(user_id__in=users)
    with_2fa = devices.values("user_id").distinct().count()
    metrics.values["two_factor_coverage"] = rate(with_2fa, active_users)

    # 8. Session errors of all refreshes (security.metrics.session_errors): panel-wide
    #    only, from per-hour counters in the cache.
    if users is None and team_id is None:
        hours = session_errors.hours_between(since, now)
        found = session_errors.counts(hours)
        refreshes = [0] * len(metrics.buckets)
        errors = [0] * len(metrics.buckets)
        for j, hour in enumerate(hours):
            i = index.get(day_of(hour))
            if i is None:
                continue
            refreshes[i] += found[session_errors.REFRESH][j]
            errors[i] += sum(found[kind][j] for kind in session_errors.KINDS)
        metrics.values["session_error_rate"] = rate(sum(errors), sum(refreshes))
        metrics.series["session_error_rate"] = [
            rate(e, r) for e, r in zip(errors, refreshes, strict=True)
        ]
        metrics.counts.update(
            session_refreshes=sum(refreshes),
            session_errors=sum(errors),
            **{f"session_errors_{kind}": sum(found[kind]) for kind in session_errors.KINDS},
        )
    return metrics


_WORST_SQL = """
SELECT ip, SUM(n), MAX(n) FROM (
    SELECT ip, {hour} AS h, COUNT(*) AS n
    FROM security_auditevent
    WHERE action IN ({actions}) AND outcome = %s AND ip IS NOT NULL
      AND created_at >= %s AND created_at <= %s {team} {users}
    GROUP BY ip, {hour}
) AS per_hour
GROUP BY ip
ORDER BY MAX(n) DESC, SUM(n) DESC, ip
LIMIT %s
"""


def worst_addresses(*, since, until, team_id: int | None = None, users=None, limit: int = 10):
    """(address, failures in the period, failures in its worst hour), worst first;
    ``users`` (a queryset of user ids) keeps the failures against those accounts."""
    users_sql, users_params = "", []
    if users is not None:
        inner, users_params = users.query.sql_with_params()
        users_sql = f"AND user_id IN ({inner})"
    hour = (
        "date_trunc('hour', created_at)"
        if connection.vendor == "postgresql"
        else "strftime('%%Y-%%m-%%d %%H', created_at)"
    )
    sql = _WORST_SQL.format(
        hour=hour,
        actions=", ".join(["%s"] * len(FAILED_ACTIONS)),
        team="AND team_id = %s" if team_id is not None else "",
        users=users_sql,
    )
    params = [
        *[str(a) for a in FAILED_ACTIONS],
        AuditEvent.Outcome.FAILURE,
        connection.ops.adapt_datetimefield_value(since),
        connection.ops.adapt_datetimefield_value(until),
        *([team_id] if team_id is not None else []),
        *users_params,
        limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(str(ip), int(total), int(worst)) for ip, total, worst in cursor.fetchall()]


def failed_per_ip_last_hour(*, now=None, users=None) -> tuple[str | None, int]:
    """The address with the most failed sign-ins in the past hour, and how many (against
    the accounts ``users`` only, when given)."""
    now = now or timezone.now()
    failures = AuditEvent.objects.all()
    if users is not None:
        failures = failures.filter(user_id__in=users)
    row = (
        failures.filter(
            action__in=FAILED_ACTIONS,
            outcome=AuditEvent.Outcome.FAILURE,
            created_at__gt=now - timedelta(hours=1),
        )
        .exclude(ip__isnull=True)
        .values("ip")
        .annotate(n=Count("id"))
        .order_by("-n", "ip")
        .first()
    )
    return (row["ip"], row["n"]) if row else (None, 0)
