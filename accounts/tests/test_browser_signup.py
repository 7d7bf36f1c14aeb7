"""A newcomer signs up, confirms the address from the email and signs in, in Chromium."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from panel.tests.browser import press_sign_in

SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _shoot(page, name):
    """Desktop and phone-width screenshots of the current page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _verification_path(mailoutbox) -> str:
    # The outbox row's body is cleared once sent (it holds a one-time link), and in
    # this test Celery is eager with the locmem backend, so the email is sent before
    # the "check your email" page is served: read it from Django's test outbox, which
    # the live server thread appends to in this same process. The link is built from
    # SITE_URL; only its path is opened on the live server.
    bodies = [m.body for m in mailoutbox if m.to == ["Sam.Okafor@example.com"]]
    assert len(bodies) == 1
    link = re.search(r"https?://\S+/auth/verify/\S+/", bodies[0]).group(0)
    return urlsplit(link).path


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_newcomer_signs_up_confirms_the_email_and_reaches_settings(
    live_server, page, mailoutbox, settings
):
    # The live server serves /static/ through the staticfiles finders, which know the
    # source names only, not the manifest's hashed ones.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    password = "velvet orbit canyon 7 lantern"
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/auth/signup/")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()

    page.get_by_label("Email address").fill("Sam.Okafor@example.com")
    page.get_by_label("Full name").fill("Sam Okafor")
    field = page.get_by_label("Password", exact=True)
    field.fill("password1234")
    meter = page.locator(".meter-label")
    expect(meter).to_contain_text("Weak")
    field.fill(password)
    expect(meter).to_contain_text("Strong")
    page.get_by_label("Confirm password").fill(password)
    _shoot(page, "signup")

    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(live_server.url + _verification_path(mailoutbox))
    expect(page.get_by_text("sam.okafor@example.com", exact=False)).to_be_visible()
    page.get_by_role("button", name="Confirm email address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    _shoot(page, "login")

    page.get_by_label("Email or username").fill("sam.okafor")
    page.get_by_label("Password").fill(password)
    press_sign_in(page)
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    page.get_by_label("Account menu for Sam Okafor").click()
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/settings/security/")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    expect(page.locator("code", has_text="sam.okafor")).to_be_visible()
    _shoot(page, "settings")
