"""/health/ for load balancers: database, cache and broker, each checked for real."""

from __future__ import annotations

import pytest

from panel import health

pytestmark = pytest.mark.django_db


def test_a_healthy_panel_answers_200_with_each_check(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("part", ["database", "cache", "broker"])
def test_a_failing_part_makes_it_503_and_names_only_that_part(client, monkeypatch, part):
    def broken():
        raise ConnectionError("password=hunter2 at db.internal:5432")

    monkeypatch.setitem(health.CHECKS, part, broken)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"][part] == "error"
    assert [name for name, value in body["checks"].items() if value != "ok"] == [part]
    assert "hunter2" not in response.content.decode()


def test_an_unreachable_broker_is_reported_within_the_timeout(client, settings, monkeypatch):
    from panel.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(health, "BROKER_TIMEOUT", 0.5)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "error"
