"""At phone width (390 px): the 2FA step and the Security tab's sign-in activity, every
column readable. Drives Debian's chromium; saves screenshots to /tmp/shots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel.tests.browser import press_sign_in
from security.client import geoip
from security.tests.helpers import LONDON, SAFARI_IPHONE, enroll, write_city_db

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_2fa_step_and_the_activity_table_read_well_on_a_phone(
    live_server, browser, settings, user_factory, password, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.GEOIP_PATH = write_city_db(tmp_path / "city.mmdb")
    settings.TRUSTED_PROXY_COUNT = 1
    enrolled = enroll(user_factory("alice", full_name="Alice Owner"))
    url = live_server.url

    context = browser.new_context(
        user_agent=SAFARI_IPHONE, viewport=PHONE, extra_http_headers={"X-Forwarded-For": LONDON}
    )
    try:
        phone = context.new_page()
        phone.goto(f"{url}/auth/login/")
        # A mistyped password first: the activity then has a failed row too.
        phone.get_by_label("Email or username").fill("alice")
        phone.get_by_label("Password").fill("not the password")
        press_sign_in(phone)
        expect(phone.get_by_role("alert").first).to_be_visible()
        phone.get_by_label("Email or username").fill("alice")
        phone.get_by_label("Password").fill(password)
        press_sign_in(phone)

        expect(phone).to_have_url(f"{url}/auth/2fa/")
        intro = phone.get_by_text("Open your authenticator app")
        expect(intro).to_contain_text("6\u2011digit")  # a hyphen that never breaks
        _no_sideways_scroll(phone)
        _shoot(phone, "2fa-step-390")
        phone.get_by_label("Authentication code").fill(enrolled.code())
        phone.get_by_role("button", name="Verify").click()
        expect(phone).to_have_url(f"{url}/dashboard/")

        phone.goto(f"{url}/settings/security/")
        activity = phone.locator("#activity")
        activity.scroll_into_view_if_needed()
        rows = activity.locator("tbody tr")
        expect(rows).to_have_count(2)
        for row in (rows.first, rows.nth(1)):
            expect(row.get_by_text(LONDON)).to_be_visible()  # the IP address
            expect(row.get_by_text("Mobile Safari 17 on iOS 17.5")).to_be_visible()
            expect(row.get_by_text("London, United Kingdom")).to_be_visible()
        # Each value is named, since the column headings are not shown on a phone.
        labels = rows.first.locator("td").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)"
        )
        assert labels == ['"Event"', '"When"', '"Location"', '"IP address"', '"Device"']
        _no_sideways_scroll(phone)
        _shoot(phone, "security-activity-390")
    finally:
        context.close()
        geoip.reset()


# --- The same, without a browser (these run in the default suite) --------------------------


@pytest.mark.django_db
def test_the_2fa_step_says_6_digit_with_a_hyphen_that_does_not_break(client, alice, password):
    from security.tests.helpers import start_two_factor

    enroll(alice)
    start_two_factor(client, alice, password)
    html = client.get("/auth/2fa/").content.decode()
    assert "6&#8209;digit code it shows" in html
    assert "6-digit code it shows" not in html


@pytest.mark.django_db
def test_each_activity_cell_names_its_column_for_small_screens(alice_client, alice):
    from django.test import Client

    Client().post("/auth/login/", {"username": "alice", "password": "wrong password here"})
    html = alice_client.get("/settings/security/").content.decode()
    for label in ("Event", "When", "Location", "IP address", "Device"):
        assert f'<td data-label="{label}"' in html
