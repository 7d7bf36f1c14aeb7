"""/metrics: the Prometheus text format behind a bearer token from the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from .conftest import NOW

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token-0123456789abcdef"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, value: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {value}"} if value is not None else {}
    return client.get("/metrics", **headers)


def test_without_a_token_configured_the_endpoint_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404


@pytest.mark.parametrize("given", [None, "", "wrong", TOKEN + "x", TOKEN[:-1]])
def test_a_missing_or_wrong_token_is_a_401_that_says_nothing_else(client, token, given):
    response = scrape(client, given)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"panel_" not in response.content


def test_a_basic_or_cookie_credential_is_not_a_token(client, token, operator):
    client.force_login(operator)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_the_right_token_gets_the_seeded_metrics_in_prometheus_format(client, token, history):
    with time_machine.travel(NOW, tick=False):
        response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }
    assert samples[("panel_signin_success_ratio", ())] == 0.95
    assert samples[("panel_suspicious_signin_ratio", ())] == 0.095
    assert samples[("panel_email_failure_ratio", ())] == 0.053
    assert samples[("panel_lockouts", ())] == 2
    assert samples[("panel_failed_signins_worst_ip_hour", ())] == 12
    assert samples[("panel_session_average_seconds", ())] == 3600
    assert samples[("panel_two_factor_coverage_ratio", ())] == 0.25
    assert (
        samples[
            ("panel_metric_threshold", (("level", "critical"), ("metric", "failed_per_ip_hour")))
        ]
        == 20
    )
    assert (
        samples[("panel_metric_threshold", (("level", "warning"), ("metric", "suspicious_rate")))]
        == 0.05
    )
    assert TOKEN not in response.content.decode()


def test_session_errors_are_exported_by_kind_with_their_thresholds(client, token):
    from security.metrics import session_errors

    when = NOW - timedelta(hours=2)
    for _ in range(50):
        session_errors.record_refresh(now=when)
    session_errors.record_error("garbled_cookie", now=when)
    session_errors.record_error("csrf_signed_in", now=when)
    with time_machine.travel(NOW, tick=False):
        response = scrape(client)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }
    assert samples[("panel_session_error_ratio", ())] == 0.04
    assert samples[("panel_session_refreshes", ())] == 50
    assert samples[("panel_session_errors", (("kind", "garbled_cookie"),))] == 1
    assert samples[("panel_session_errors", (("kind", "interrupted"),))] == 0
    level = (("level", "critical"), ("metric", "session_error_rate"))
    assert samples[("panel_metric_threshold", level)] == 0.05
    # No team label anywhere (docs/security.md: label cardinality).
    assert not any("team" in dict(labels) for _name, labels in samples)
