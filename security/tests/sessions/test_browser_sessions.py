"""Two browsers, one account: the laptop revokes the phone, which is signed out on its
next click. Drives Debian's chromium; saves screenshots to /tmp/shots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel.tests.browser import sign_in as _sign_in
from security.client import geoip
from security.tests.helpers import FIREFOX_WINDOWS, LONDON, SAFARI_IPHONE, code_from, write_city_db

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PHONE_IP = "81.2.69.201"


def _shoot(page, name: str, *, phone_too: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if phone_too:
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(size)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_one_browser_revokes_another_which_is_signed_out_on_its_next_click(
    live_server, browser, mailoutbox, settings, user_factory, password, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Both browsers are in London (a test GeoIP database); the panel sits behind one
    # proxy that says where each request came from.
    settings.GEOIP_PATH = write_city_db(tmp_path / "city.mmdb")
    settings.TRUSTED_PROXY_COUNT = 1
    user_factory("alice", full_name="Alice Owner")
    url = live_server.url

    laptop_ctx = browser.new_context(
        user_agent=FIREFOX_WINDOWS, viewport=DESKTOP, extra_http_headers={"X-Forwarded-For": LONDON}
    )
    phone_ctx = browser.new_context(
        user_agent=SAFARI_IPHONE, viewport=PHONE, extra_http_headers={"X-Forwarded-For": PHONE_IP}
    )
    try:
        laptop = laptop_ctx.new_page()
        phone = phone_ctx.new_page()

        # The laptop is Alice's first browser: trusted without a code.
        _sign_in(laptop, url, "alice", password)
        expect(laptop).to_have_url(f"{url}/dashboard/")

        # The phone is a new browser: it needs the emailed code.
        _sign_in(phone, url, "alice", password)
        expect(phone).to_have_url(f"{url}/auth/device/")
        expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
        phone.set_viewport_size(DESKTOP)
        _shoot(phone, "device-code", phone_too=True)
        phone.set_viewport_size(PHONE)
        phone.get_by_label("Verification code").fill(code_from(mailoutbox))
        phone.get_by_role("button", name="Verify and sign in").click()
        expect(phone).to_have_url(f"{url}/dashboard/")

        # The laptop opens Settings > Sessions and sees both.
        laptop.get_by_label("Account menu for Alice Owner").click()
        laptop.get_by_role("link", name="Settings", exact=True).click()
        laptop.get_by_role("link", name="Sessions").click()
        expect(laptop).to_have_url(f"{url}/settings/sessions/")
        sessions = laptop.locator(".session-item")
        expect(sessions).to_have_count(2)
        expect(sessions.first).to_contain_text("Firefox 128 on Windows 10")
        expect(sessions.first.get_by_text("Current")).to_be_visible()
        expect(sessions.nth(1)).to_contain_text("Mobile Safari 17 on iOS 17.5")
        expect(sessions.nth(1)).to_contain_text("London, United Kingdom")
        expect(sessions.nth(1)).to_contain_text(PHONE_IP)
        _shoot(laptop, "sessions-tab", phone_too=True)

        # Revoke: the sign-in minutes ago counts as the step-up (no password asked again
        # seconds after a full sign-in), so only the revocation is confirmed.
        laptop.get_by_role(
            "link", name="Revoke the session on Mobile Safari 17 on iOS 17.5"
        ).click()
        expect(laptop.get_by_role("heading", name="Revoke this session?")).to_be_visible()
        expect(laptop.locator(".details")).to_contain_text(PHONE_IP)
        expect(laptop.locator(".details")).to_contain_text("London, United Kingdom")
        _shoot(laptop, "sessions-revoke-confirm", phone_too=True)
        laptop.get_by_role("button", name="Confirm revoke").click()
        expect(laptop.get_by_text("was signed out")).to_be_visible()
        expect(laptop.locator(".session-item")).to_have_count(1)

        # The phone's next click lands on the sign-in page, with the reason.
        phone.get_by_role("link", name="Open settings").click()
        expect(phone).to_have_url(f"{url}/auth/login/?next=/settings/")
        expect(
            phone.get_by_text("Your session was signed out from another device.")
        ).to_be_visible()
        _shoot(phone, "signed-out-elsewhere")

        # The laptop is still signed in.
        laptop.goto(f"{url}/dashboard/")
        expect(laptop).to_have_url(f"{url}/dashboard/")
    finally:
        laptop_ctx.close()
        phone_ctx.close()
        geoip.reset()
