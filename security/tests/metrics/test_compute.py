"""Each metric computed from the seeded history (conftest ``history``) gives the answer
counted by hand."""

from __future__ import annotations

import pytest

from security.metrics.compute import THRESHOLDS, compute

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_each_metric_of_the_last_24_hours_is_the_hand_counted_answer(history):
    metrics = compute("24h", now=NOW)
    assert metrics.values == {
        "signin_success_rate": 95.0,
        "suspicious_rate": 9.5,
        "lockouts": 2,
        "device_auto_approval_rate": 75.0,
        "password_reset_rate": 25.0,
        "session_expiry_rate": 50.0,
        "average_session_minutes": 60.0,
        "email_failure_rate": 5.3,
        "failed_per_ip_hour": 12,
        "two_factor_coverage": 25.0,
        "session_error_rate": None,  # no refresh counted: no data, not 0%
    }
    assert metrics.top_ips == [("203.0.113.50", 12, 12), ("198.51.100.1", 1, 1)]


def test_the_levels_follow_the_product_thresholds(history):
    metrics = compute("24h", now=NOW)
    assert metrics.level("suspicious_rate") == "warning"
    assert metrics.level("failed_per_ip_hour") == "warning"
    assert metrics.level("email_failure_rate") == "warning"
    assert metrics.level("signin_success_rate") == "ok"  # 95% is the target, not below it
    assert metrics.level("session_expiry_rate") == "below_target"


def test_the_seven_day_window_includes_the_older_failure(history):
    metrics = compute("7d", now=NOW)
    assert metrics.values["signin_success_rate"] == 90.5
    assert len(metrics.buckets) == 8  # 3 March (partial) to 10 March, one per day


def test_the_hourly_series_put_each_event_in_its_hour(history):
    metrics = compute("24h", now=NOW)
    hours = [b.hour for b in metrics.buckets]
    assert len(hours) == 25 and hours[0] == 12 and hours[-1] == 12
    nine = hours.index(9, 1)  # 09:00 today
    assert metrics.series["failed_signins"][nine] == 12
    two = hours.index(2)
    assert metrics.series["signin_success_rate"][two] == 95.0
    assert metrics.series["lockouts"][hours.index(3)] == 2
    assert sum(metrics.series["lockouts"]) == 2


def test_an_empty_history_has_no_rates_rather_than_zero_or_an_error(db):
    metrics = compute("30d", now=NOW)
    assert metrics.values["signin_success_rate"] is None
    assert metrics.level("signin_success_rate") == "none"
    assert metrics.values["failed_per_ip_hour"] == 0
    assert metrics.top_ips == []


@pytest.mark.parametrize(
    ("name", "value", "level"),
    [
        ("failed_per_ip_hour", 10, "ok"),
        ("failed_per_ip_hour", 11, "warning"),
        ("failed_per_ip_hour", 20, "warning"),
        ("failed_per_ip_hour", 21, "critical"),
        ("suspicious_rate", 5.0, "ok"),
        ("suspicious_rate", 5.1, "warning"),
        ("suspicious_rate", 10.1, "critical"),
        ("email_failure_rate", 10.0, "warning"),
        ("email_failure_rate", 10.5, "critical"),
        ("signin_success_rate", 94.9, "below_target"),
    ],
)
def test_a_threshold_is_crossed_only_strictly_above_it(name, value, level):
    assert THRESHOLDS[name].level(value) == level


def test_the_thresholds_read_as_words():
    assert THRESHOLDS["failed_per_ip_hour"].words() == "warning > 10/hour, critical > 20/hour"
    assert THRESHOLDS["suspicious_rate"].words() == "target < 5%, warning > 5%, critical > 10%"
    assert THRESHOLDS["signin_success_rate"].words() == "target > 95%"


def test_failed_send_attempts_and_waiting_emails_are_counted_even_when_retries_deliver(db):
    """SMTP down or refusing shows while it lasts: every attempt but the one that sent
    counts as a failed attempt, and what still waits is counted too (/metrics has both)."""
    from django.utils import timezone

    from accounts.models import OutboxEmail
    from security.metrics.prometheus import exposition

    def row(status, attempts):
        OutboxEmail.objects.create(
            recipient="x@example.com", template="t", subject="s", status=status, attempts=attempts
        )

    row(OutboxEmail.Status.SENT, 1)  # sent at once
    row(OutboxEmail.Status.SENT, 3)  # two failures, then sent
    row(OutboxEmail.Status.PENDING, 2)  # two failures, waiting
    row(OutboxEmail.Status.FAILED, 5)  # five failures, given up
    metrics = compute("24h", now=timezone.now())
    assert metrics.counts["email_failed_attempts"] == 0 + 2 + 2 + 5
    assert metrics.counts["emails_pending"] == 1
    assert metrics.values["email_failure_rate"] == pytest.approx(100 / 3, abs=0.1)
    text = exposition().decode()
    assert "panel_email_failed_attempts 9.0" in text
    assert "panel_emails_pending 1.0" in text


def test_the_failures_index_covers_exactly_the_failed_actions_the_metrics_count():
    from audit.models import AuditEvent
    from security.metrics.compute import FAILED_ACTIONS

    [index] = [i for i in AuditEvent._meta.indexes if i.name == "audit_failures_time_ip"]
    condition = dict(index.condition.children)
    assert sorted(condition["action__in"]) == sorted(str(a) for a in FAILED_ACTIONS)
    assert condition["outcome"] == AuditEvent.Outcome.FAILURE
