"""The metrics dashboard page: superusers only, three periods, each metric with its value,
its level in colour and in words, its thresholds, and a server-drawn chart."""

from __future__ import annotations

import base64

import pytest
import time_machine

from .conftest import NOW

pytestmark = pytest.mark.django_db

PAGE = "/operations/metrics/"


def test_only_superusers_see_the_metrics(client, alice):
    client.force_login(alice)
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize("window", ["24h", "7d", "30d"])
def test_each_period_draws_every_chart_as_an_inline_svg_without_script(operator_client, window):
    response = operator_client.get(PAGE, {"window": window})
    assert response.status_code == 200
    body = response.content.decode()
    charts = body.split('src="data:image/svg+xml;base64,')[1:]
    assert len(charts) == 10  # nine time series and the top-addresses bars (2FA: now)
    for chart in charts:
        svg = base64.b64decode(chart.split('"', 1)[0]).decode()
        assert svg.startswith("<svg") and "<script" not in svg


def test_an_unknown_period_is_a_400(operator_client):
    assert operator_client.get(PAGE, {"window": "1y"}).status_code == 400


def test_the_page_says_each_level_and_threshold_in_words(operator_client, history):
    with time_machine.travel(NOW, tick=False):
        response = operator_client.get(PAGE)
    body = response.content.decode()
    cards = {card["name"]: card for card in response.context["cards"]}
    assert cards["suspicious_rate"]["value"] == "9.5%"
    assert cards["suspicious_rate"]["level_words"] == "Warning"
    assert cards["failed_per_ip_hour"]["value"] == "12/hour"
    assert cards["email_failure_rate"]["level"] == "warning"
    assert cards["session_expiry_rate"]["level_words"] == "Below target"
    assert "Warning &gt; 10/hour, critical &gt; 20/hour." in body
    assert "Target &lt; 5%, warning &gt; 5%, critical &gt; 10%." in body
    assert 'class="card metric metric-warning"' in body
    assert "<code>203.0.113.50</code>" in body
