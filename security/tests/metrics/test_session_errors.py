"""The session errors metric: what counts as a refresh and as an error (through real
requests), the rate of a seeded history with its product thresholds (> 1% warning,
> 5% critical), on the dashboard and in the alerts."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from security.metrics import alerts, session_errors
from security.metrics.compute import compute
from security.tests.helpers import browser, emails, sign_in

from .conftest import NOW

pytestmark = pytest.mark.django_db


def counted(kind: str, when=None) -> int:
    hour = (when or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return session_errors.counts([hour])[kind][0]


def test_a_session_cookie_the_panel_never_issued_is_a_session_error():
    client = browser()
    client.cookies["sessionid"] = "tampered-value.with:signs"
    assert client.get("/auth/login/").status_code == 200
    assert counted("garbled_cookie") == 1


def test_a_well_formed_cookie_of_an_ended_session_is_not_an_error():
    # 32 lowercase letters and digits, as Django issues: a session that expired or was
    # signed out (the session expiry rate counts those), not a garbled one.
    client = browser()
    client.cookies["sessionid"] = "a" * 32
    client.get("/auth/login/")
    assert counted("garbled_cookie") == 0


def test_a_csrf_failure_counts_only_on_a_signed_in_request(alice, password):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/auth/login/", {"username": "x"}).status_code == 403
    assert counted("csrf_signed_in") == 0
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(alice)
    response = signed_in.post("/settings/sessions/confirm/", {"password": password})
    assert response.status_code == 403
    assert counted("csrf_signed_in") == 1


def test_a_refresh_is_counted_with_the_last_active_write_and_not_per_request(alice, password):
    client = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, alice, password)
        client.get("/dashboard/")
        client.get("/dashboard/")
        assert counted("refresh") == 0  # within the minute: no write, nothing counted
        traveller.shift(timedelta(seconds=61))
        client.get("/dashboard/")
        client.get("/dashboard/")
        assert counted("refresh") == 1


def test_an_interrupted_session_is_counted_from_django_s_security_logger():
    logging.getLogger("django.security.SessionInterrupted").warning(
        "The request's session was deleted before the request completed."
    )
    assert counted("interrupted") == 1


def seed(refreshes: int, errors: dict[str, int], *, when) -> None:
    for _ in range(refreshes):
        session_errors.record_refresh(now=when)
    for kind, n in errors.items():
        for _ in range(n):
            session_errors.record_error(kind, now=when)


def test_the_rate_of_a_seeded_history_with_its_levels():
    """200 refreshes at 09:xx with 1 garbled cookie and 2 CSRF failures, 100 at 11:xx
    with 1 interrupted session: 4 of 300 = 1.3% (warning: > 1%, not > 5%); the hourly
    series: 1.5% at 09:00, 1% at 11:00 (not above 1%), nothing elsewhere."""
    seed(200, {"garbled_cookie": 1, "csrf_signed_in": 2}, when=NOW.replace(hour=9, minute=5))
    seed(100, {"interrupted": 1}, when=NOW.replace(hour=11, minute=50))
    metrics = compute("24h", now=NOW)
    assert metrics.values["session_error_rate"] == 1.3
    assert metrics.level("session_error_rate") == "warning"
    series = dict(
        zip([b.hour for b in metrics.buckets], metrics.series["session_error_rate"], strict=False)
    )
    assert series[9] == 1.5 and series[11] == 1.0 and series[10] is None
    assert metrics.counts["session_errors_csrf_signed_in"] == 2
    assert metrics.counts["session_refreshes"] == 300
    # 30 more errors: 34 of 330 = 10.3%, critical.
    seed(30, {"garbled_cookie": 30}, when=NOW.replace(hour=12, minute=0))
    assert compute("24h", now=NOW).level("session_error_rate") == "critical"


def test_the_dashboard_shows_session_errors_with_their_thresholds(operator_client):
    seed(100, {"garbled_cookie": 2}, when=timezone.now())
    response = operator_client.get("/operations/metrics/")
    card = next(c for c in response.context["cards"] if c["name"] == "session_error_rate")
    assert card["value"] == "2%"
    assert card["level_words"] == "Warning"
    assert card["thresholds"] == "warning > 1%, critical > 5%"
    assert "Session errors" in response.content.decode()


def test_session_errors_alert_the_superusers_once_enough_refreshes_were_counted(user_factory):
    user_factory("root", is_superuser=True, is_staff=True)
    seed(10, {"garbled_cookie": 5}, when=NOW - timedelta(hours=1))
    assert alerts.check_thresholds(now=NOW)["session_error_rate"] == ""  # 10 is too few
    seed(10, {}, when=NOW - timedelta(hours=1))
    assert alerts.check_thresholds(now=NOW)["session_error_rate"] == "alert"  # 5/20: 25%
    assert emails("metric_alert")[-1].subject.startswith("Critical: Session errors")
    assert alerts.check_thresholds(now=NOW)["session_error_rate"] == ""
