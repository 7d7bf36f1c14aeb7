"""Threshold alerts: one email per crossing, none while it stays, one when it clears,
and the next crossing emails again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEvent
from security.metrics import alerts
from security.metrics.models import MetricAlertState
from security.tasks import check_metric_thresholds
from security.tests.helpers import emails

from .conftest import NOW, at

pytestmark = pytest.mark.django_db


def failures(count: int, *, when, ip="203.0.113.50") -> None:
    for n in range(count):
        at(
            when + timedelta(seconds=n),
            Action.SIGNIN,
            ip=ip,
            outcome=AuditEvent.Outcome.FAILURE,
            metadata={"reason": "bad_credentials"},
        )


def alert_emails() -> list:
    return emails("metric_alert")


@pytest.fixture
def superusers(user_factory):
    return [
        user_factory("root1", is_superuser=True, is_staff=True),
        user_factory("root2", is_superuser=True, is_staff=True),
        user_factory("retired", is_superuser=True, is_staff=True, is_active=False),
    ]


def test_a_crossing_emails_every_active_superuser_once(superusers, alice):
    failures(11, when=NOW - timedelta(minutes=30))
    assert alerts.check_thresholds(now=NOW)["failed_per_ip_hour"] == "alert"
    sent = alert_emails()
    assert sorted(e.recipient for e in sent) == ["root1@example.com", "root2@example.com"]
    assert sent[0].subject == "Warning: Failed sign-ins from one address in the past hour (Panel)"
    assert "11 from 203.0.113.50" in sent[0].body_text
    assert "warning > 10/hour, critical > 20/hour" in sent[0].body_text
    event = AuditEvent.objects.get(action="metric_alert")
    assert event.metadata == {
        "metric": "failed_per_ip_hour",
        "level": "warning",
        "value": 11,
        "recipients": 2,
    }
    # Five minutes later, still above: nothing more.
    assert alerts.check_thresholds(now=NOW + timedelta(minutes=5))["failed_per_ip_hour"] == ""
    assert len(alert_emails()) == 2


def test_rising_to_critical_emails_again_but_falling_back_to_warning_does_not(superusers):
    failures(11, when=NOW - timedelta(minutes=30))
    alerts.check_thresholds(now=NOW)
    failures(10, when=NOW - timedelta(minutes=10))
    assert alerts.check_thresholds(now=NOW)["failed_per_ip_hour"] == "alert"
    assert alert_emails()[-1].subject.startswith("Critical: ")
    # 31 minutes later the first 11 are older than an hour: 10 left, not above 10.
    later = NOW + timedelta(minutes=31)
    assert alerts.check_thresholds(now=later)["failed_per_ip_hour"] == "cleared"
    assert len(alert_emails()) == 6  # warning, critical, cleared; two superusers each


def test_a_cleared_metric_emails_once_and_the_next_crossing_emails_again(superusers):
    failures(11, when=NOW - timedelta(minutes=30))
    alerts.check_thresholds(now=NOW)
    cleared = NOW + timedelta(hours=1)
    assert alerts.check_thresholds(now=cleared)["failed_per_ip_hour"] == "cleared"
    assert alert_emails()[-1].subject.startswith("Cleared: ")
    assert alerts.check_thresholds(now=cleared + timedelta(minutes=5))["failed_per_ip_hour"] == ""
    assert MetricAlertState.objects.get(metric="failed_per_ip_hour").level == "ok"
    failures(15, when=cleared + timedelta(minutes=6))
    again = cleared + timedelta(minutes=10)
    assert alerts.check_thresholds(now=again)["failed_per_ip_hour"] == "alert"
    assert len(alert_emails()) == 6
    assert AuditEvent.objects.filter(action="metric_cleared").count() == 1


def test_a_rate_alerts_only_once_enough_sign_ins_were_decided(superusers, bob):
    # 1 sign-in and 1 held: 50%, but 2 is too few to mean anything.
    at(NOW - timedelta(hours=1), Action.SIGNIN, user=bob)
    at(NOW - timedelta(hours=1), Action.SUSPICIOUS_SIGNIN_HELD, user=bob)
    assert alerts.check_thresholds(now=NOW)["suspicious_rate"] == ""
    for n in range(18):
        at(NOW - timedelta(minutes=50 + n), Action.SIGNIN, user=bob)
    # 1 of 20 = 5%: not above 5%. One more held: 2 of 21 = 9.5%, a warning.
    assert alerts.check_thresholds(now=NOW)["suspicious_rate"] == ""
    at(NOW - timedelta(minutes=5), Action.SUSPICIOUS_SIGNIN_HELD, user=bob)
    assert alerts.check_thresholds(now=NOW)["suspicious_rate"] == "alert"


def test_the_beat_task_runs_the_check_every_five_minutes(settings, superusers):
    schedule = settings.CELERY_BEAT_SCHEDULE["check-metric-thresholds"]
    assert schedule == {"task": "security.tasks.check_metric_thresholds", "schedule": 300.0}
    failures(21, when=timezone.now() - timedelta(minutes=5))
    assert check_metric_thresholds.delay().get()["failed_per_ip_hour"] == "alert"
    assert alert_emails()[0].subject.startswith("Critical: ")
