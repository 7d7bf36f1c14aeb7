"""In Chromium: the pages of the account controls (screenshots in /tmp/shots): the forced
password change, the disabled account's sign-in, the email change with its emailed
links, and the Members page's controls."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from panel.tests import browser

SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "velvet orbit canyon 7 lantern"
NEW_PASSWORD = "copper meadow whistle 42 harbor"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name: str) -> None:
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


def sign_in(page, base: str, login: str, password: str = PASSWORD) -> None:
    browser.sign_in(page, base, login, password)


def test_forced_change_and_disabled_sign_in(live_server, page, static_from_finders, user_factory):
    from accounts import controls

    sam = user_factory("sam", password=PASSWORD, full_name="Sam Okafor")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sam")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    controls.force_password_change(actor=None, user=sam, source="command")
    page.goto(f"{live_server.url}/settings/sessions/")
    expect(page).to_have_url(f"{live_server.url}/settings/security/password/")
    expect(page.get_by_text("An administrator asked you to choose a new password")).to_be_visible()
    shoot(page, "acct-forced-password-change")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password has been changed")).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    controls.disable_account(actor=None, user=sam, source="command")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page).to_have_url(f"{live_server.url}/auth/login/?next=/dashboard/")
    sign_in(page, live_server.url, "sam", NEW_PASSWORD)
    expect(page.get_by_text("This account is disabled.")).to_be_visible()
    shoot(page, "acct-disabled-signin")


def test_email_change_and_its_links(live_server, page, static_from_finders, user_factory):
    from accounts import controls
    from accounts.models import EmailChange

    user_factory("sam", password=PASSWORD, full_name="Sam Okafor")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/settings/security/")
    page.get_by_role("link", name="Change", exact=True).click()
    # The sign-in a moment ago counts as the step-up (security.stepup): straight to the form.
    expect(page.get_by_role("heading", name="Change email address")).to_be_visible()
    page.get_by_label("New email address").fill("not an address")
    page.get_by_role("button", name="Send the confirmation link").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    shoot(page, "acct-email-change-form")
    page.get_by_label("New email address").fill("sam@new.example")
    page.get_by_role("button", name="Send the confirmation link").click()
    expect(page.get_by_text("We sent a confirmation link to sam@new.example")).to_be_visible()

    change = EmailChange.objects.get()
    page.goto(f"{live_server.url}/auth/email/confirm/{controls.confirm_token(change)}/")
    expect(page.get_by_role("heading", name="Confirm your new email address")).to_be_visible()
    shoot(page, "acct-email-change-confirm")
    page.get_by_role("button", name="Confirm the new address").click()
    expect(page.get_by_text("Your email address is now sam@new.example")).to_be_visible()

    page.goto(f"{live_server.url}/auth/email/undo/{controls.undo_token(change)}/")
    expect(page.get_by_role("heading", name="Undo the email change")).to_be_visible()
    shoot(page, "acct-email-change-undo")
    page.get_by_role("button", name="Undo the change").click()
    expect(page.get_by_text("every session was signed out")).to_be_visible()
    page.goto(f"{live_server.url}/auth/email/undo/{controls.undo_token(change)}/")
    expect(page.get_by_text("This link has already been used.")).to_be_visible()
    shoot(page, "acct-email-change-used-link")


def test_the_members_page_controls(live_server, page, static_from_finders, user_factory):
    from teams import catalog
    from teams.models import Membership, Role, Team

    catalog.ensure()
    mia = user_factory("mia", password=PASSWORD, full_name="Mia Manager")
    dave = user_factory("dave", password=PASSWORD, full_name="Dave Developer")
    acme = Team.objects.create(name="Acme")
    for user, role in ((mia, "Manager"), (dave, "Developer")):
        Membership.objects.create(
            team=acme, user=user, role=Role.objects.get(team__isnull=True, name=role)
        )
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "mia")
    page.goto(f"{live_server.url}/teams/{acme.pk}/members/")
    # The sign-in a moment ago counts as the step-up (security.stepup).
    page.get_by_label("Account of Dave Developer").select_option("disable")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Dave Developer's account is disabled and signed out.")).to_be_visible()
    expect(page.get_by_text("Disabled", exact=True)).to_be_visible()
    shoot(page, "acct-members-controls")
    dave.refresh_from_db()
    assert not dave.is_active
