"""In Chromium: an Owner invites a newcomer; the newcomer follows the emailed link, signs up
and lands in the team as a Developer; the Owner turns on "require 2FA"; the Developer's
next sign-in goes to enrollment (QR read off the page with zxing-cpp, code from pyotp)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from security.tests.twofactor.test_browser_2fa import read_qr, shot, sign_in, sign_out
from teams import catalog, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "velvet orbit canyon 7 lantern"


def invitation_path(mailoutbox, to: str) -> str:
    bodies = [m.body for m in mailoutbox if m.to == [to]]
    assert len(bodies) == 1
    return urlsplit(re.search(r"https?://\S+/invite/[\w-]+/", bodies[0]).group(0)).path


def test_an_invited_newcomer_joins_as_developer_and_is_sent_to_enrollment_once_2fa_is_required(
    live_server, page: Page, user_factory, password, settings, mailoutbox
):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    catalog.ensure()
    owner = user_factory("olivia", email="olivia@example.com", full_name="Olivia Owner")
    team = services.team_create(name="Acme", owner=owner)
    base = live_server.url

    # The Owner invites the newcomer as a Developer.
    sign_in(page, base, "olivia", password)
    expect(page).to_have_url(base + "/dashboard/")
    page.goto(f"{base}/teams/{team.pk}/invitations/")
    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Role").select_option(label="Developer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("An invitation was sent to nina@example.com")).to_be_visible()
    shot(page, "teams_invited")
    sign_out(page)

    # The newcomer follows the emailed link and signs up there.
    page.goto(base + invitation_path(mailoutbox, "nina@example.com"))
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    expect(page.get_by_label("Email address")).to_have_value("nina@example.com")
    expect(page.get_by_label("Email address")).to_be_disabled()
    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    expect(page).to_have_url(f"{base}/teams/{team.pk}/domains/")
    expect(page.get_by_text("Your role: Developer")).to_be_visible()
    assert not [m for m in mailoutbox if m.to == ["nina@example.com"] and "verify" in m.body]
    shot(page, "teams_joined")
    sign_out(page)

    # The Owner turns on "require 2FA" (and, having no 2FA, is sent to enroll as well).
    sign_in(page, base, "olivia", password)
    page.goto(f"{base}/teams/{team.pk}/policy/")
    page.get_by_label("Require two-factor authentication for every member").check()
    page.get_by_role("button", name="Save the policy").click()
    expect(page).to_have_url(base + "/settings/security/2fa/enable/")
    sign_out(page)

    # The Developer's next sign-in goes straight to enrollment, and nothing else opens.
    sign_in(page, base, "nina@example.com", NEW_PASSWORD)
    page.goto(base + "/dashboard/")
    expect(page).to_have_url(base + "/settings/security/2fa/enable/")
    expect(page.get_by_text("Acme requires two-factor authentication")).to_be_visible()
    page.get_by_label("Current password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    authenticator = pyotp.parse_uri(read_qr(page))
    page.get_by_label("Authentication code").fill(authenticator.now())
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    page.goto(f"{base}/teams/{team.pk}/domains/")
    expect(page.get_by_text("Your role: Developer")).to_be_visible()
    shot(page, "teams_enrolled")
