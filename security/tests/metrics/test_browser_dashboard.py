"""In Chromium: the metrics dashboard at desktop and at 390 px, charts drawn and nothing
wider than the screen (screenshots in /tmp/shots)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actions import Action
from audit.models import AuditEvent
from panel.tests.browser import press_sign_in
from security.tests.metrics.conftest import at

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "velvet orbit canyon 7 lantern"


@pytest.fixture
def static_from_finders(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def seed(user) -> None:
    now = timezone.now()
    for n in range(30):
        at(now - timedelta(minutes=20 + n * 30), Action.SIGNIN, user=user)
    for _ in range(25):  # all at one moment: one hour, whatever the clock says
        at(
            now - timedelta(minutes=1),
            Action.SIGNIN,
            ip="203.0.113.50",
            outcome=AuditEvent.Outcome.FAILURE,
        )
    for n in range(4):
        at(now - timedelta(hours=2, minutes=n), Action.SUSPICIOUS_SIGNIN_HELD, user=user)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_at_desktop_and_phone_widths(
    live_server, page, static_from_finders, user_factory
):
    root = user_factory("root", password=PASSWORD, is_staff=True, is_superuser=True)
    seed(root)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("Email or username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    press_sign_in(page)
    page.goto(f"{live_server.url}/operations/metrics/")
    expect(page.get_by_role("heading", name="Security metrics", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Failed sign-ins per address and hour")).to_be_visible()
    card = page.locator(".metric-critical", has_text="Failed sign-ins per address and hour")
    expect(card.get_by_text("Critical", exact=True)).to_be_visible()
    charts = page.locator("img.chart")
    expect(charts).to_have_count(10)
    assert all(
        charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(10)
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "metrics-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = charts.first.bounding_box()
    assert box is not None and 300 <= box["width"] <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "metrics-phone.png"), full_page=True)
    page.goto(f"{live_server.url}/operations/audit/?outcome=failure")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "audit-log-phone.png"), full_page=True)
