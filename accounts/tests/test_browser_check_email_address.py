"""In Chromium: "Check your email" names the address, and a password change says which
browser stays trusted (screenshots in /tmp/shots)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel.tests.browser import press_sign_in

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "velvet orbit canyon 7 lantern"


def _shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def static_from_finders(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_check_your_email_shows_the_address_and_a_way_to_fix_it(
    live_server, page, static_from_finders
):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/auth/signup/")
    page.get_by_label("Email address").fill("Sam.Okafor@Exmaple.com")
    page.get_by_label("Full name").fill("Sam Okafor")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("Sam.Okafor@exmaple.com")).to_be_visible()
    _shoot(page, "check-email-address")
    page.get_by_role("link", name="Sign up again with the right one").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_password_change_says_this_browser_stays_trusted(
    live_server, page, static_from_finders, user_factory
):
    user_factory("sam", password=PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("Email or username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    press_sign_in(page)
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    page.goto(f"{live_server.url}/settings/security/password/")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a different long passphrase 77")
    page.get_by_label("Confirm new password").fill("a different long passphrase 77")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("This browser stays trusted")).to_be_visible()
    _shoot(page, "password-changed-flash")
