"""In Chromium: an Owner reads the team's audit log (filtered, with the CSV link keeping
the filter) and the team's security metrics, at desktop and at 390 px, nothing wider than
the screen (screenshots in /tmp/shots)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit.actions import Action
from audit.models import AuditEvent
from security.tests.metrics.conftest import at
from security.tests.twofactor.test_browser_2fa import sign_in
from teams import catalog, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_an_owner_reads_the_team_audit_log_and_metrics_on_desktop_and_phone(
    live_server, page: Page, user_factory, password, settings
):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    catalog.ensure()
    owner = user_factory("olivia", email="olivia@example.com", full_name="Olivia Owner")
    team = services.team_create(name="Acme", owner=owner)
    other = services.team_create(name="Globex", owner=user_factory("gus"))
    now = timezone.now()
    for n in range(3):
        at(now - timedelta(hours=n + 1), Action.DOMAIN_CREATED, actor=owner, team_id=team.pk)
    at(now - timedelta(hours=1), Action.DOMAIN_CREATED, team_id=other.pk, metadata={"h": "gx"})
    for _ in range(12):
        at(now - timedelta(minutes=1), Action.SIGNIN, user=owner, ip="203.0.113.50",
           outcome=AuditEvent.Outcome.FAILURE)  # fmt: skip
    for n in range(5):
        at(now - timedelta(hours=2, minutes=n), Action.SIGNIN, user=owner)
    base = live_server.url

    sign_in(page, base, "olivia", password)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/teams/{team.pk}/events/")
    page.get_by_label("Action").select_option(label="Domain added")
    page.get_by_role("button", name="Show events").click()
    expect(page.get_by_text("3 found")).to_be_visible()
    expect(page.get_by_text("gx")).to_have_count(0)
    export = page.get_by_role("link", name="Export these events (CSV)")
    assert "action=domain_created" in export.get_attribute("href")
    assert export.get_attribute("href").startswith(f"/teams/{team.pk}/events.csv?")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "team-audit-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "team-audit-phone.png"), full_page=True)

    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Security metrics").click()
    expect(page).to_have_url(f"{base}/teams/{team.pk}/metrics/")
    card = page.locator(".metric-warning", has_text="Failed sign-ins per address and hour")
    expect(card.get_by_text("Warning", exact=True)).to_be_visible()
    expect(page.locator("img.chart")).to_have_count(9)  # no session errors on a team's
    page.screenshot(path=str(SHOTS / "team-metrics-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "team-metrics-phone.png"), full_page=True)
