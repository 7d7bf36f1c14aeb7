"""In Chromium: an Owner (2FA with an authenticator app; pyotp makes the codes) acts as a
Developer of their team with a reason, confirming it's them first; the orange banner
shows on every page; the Developer's 2FA page is refused; the Owner ends it. Then the
Developer signs in and sees in their activity who acted as them and why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from security.tests.helpers import enroll
from security.tests.twofactor.test_browser_2fa import shot, sign_in, sign_out
from teams import catalog, services
from teams.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Ticket 8812: Devon cannot see the staging domain"


def test_an_owner_acts_as_a_developer_sees_the_banner_is_refused_2fa_and_ends_it(
    live_server, page: Page, user_factory, password, settings, mailoutbox
):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    catalog.ensure()
    owner = user_factory("olivia", email="olivia@example.com", full_name="Olivia Owner")
    developer = user_factory("devon", email="devon@example.com", full_name="Devon Developer")
    team = services.team_create(name="Acme", owner=owner)
    Membership.objects.create(
        team=team, user=developer, role=Role.objects.get(team__isnull=True, name="Developer")
    )
    enrolled = enroll(owner)
    base = live_server.url

    # The Owner signs in with a password and a code from the authenticator app.
    sign_in(page, base, "olivia", password)
    expect(page).to_have_url(base + "/auth/2fa/")
    page.get_by_label("Authentication code").fill(enrolled.code())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(base + "/dashboard/")

    # Members: Impersonate Devon with a reason. The sign-in with the app's code a moment
    # ago counts as the fresh step-up (security.stepup), so the POST starts it at once.
    page.goto(f"{base}/teams/{team.pk}/members/")
    page.get_by_label("Reason for acting as Devon Developer").fill(REASON)
    shot(page, "impersonation_members")
    page.get_by_role("button", name="Impersonate Devon Developer").click()
    expect(page).to_have_url(base + "/dashboard/")

    banner = page.get_by_role("status", name="Impersonation")
    expect(banner).to_contain_text("You are signed in as Devon Developer (impersonating)")
    expect(banner).to_contain_text(REASON)
    expect(banner).to_contain_text("min left")
    expect(banner.get_by_role("button", name="End")).to_be_visible()
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(194, 65, 12)"
    shot(page, "impersonation_banner")

    # The banner is on every page; the Developer's 2FA page is out of reach.
    page.goto(f"{base}/settings/security/")
    expect(page.get_by_role("status", name="Impersonation")).to_be_visible()
    expect(page.get_by_text("You are acting as Devon Developer: you can read")).to_be_visible()
    response = page.goto(f"{base}/settings/security/2fa/enable/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not while acting as someone else")).to_be_visible()
    expect(page.get_by_text("End the impersonation to manage your own account")).to_be_visible()
    expect(page.get_by_role("status", name="Impersonation")).to_be_visible()
    shot(page, "impersonation_refused_2fa")

    # End: the Owner is themselves again.
    page.get_by_role("status", name="Impersonation").get_by_role("button", name="End").click()
    expect(page).to_have_url(base + "/dashboard/")
    expect(page.get_by_text("You stopped acting as Devon Developer")).to_be_visible()
    expect(page.get_by_role("status", name="Impersonation")).to_have_count(0)
    expect(page.locator(".usermenu-name")).to_have_text("Olivia Owner")
    sign_out(page)

    ended = AuditEvent.objects.get(action="impersonation_ended")
    assert (ended.actor, ended.user, ended.impersonator) == (owner, developer, owner)
    assert [m.to for m in mailoutbox if "acting as you" in m.subject] == [["devon@example.com"]]

    # The Developer sees in their activity that an administrator acted as them, and why.
    sign_in(page, base, "devon", password)
    expect(page).to_have_url(base + "/dashboard/")
    page.goto(f"{base}/settings/security/")
    activity = page.locator("#activity")
    expect(activity).to_contain_text("Olivia Owner (administrator) started acting as you")
    expect(activity).to_contain_text("Olivia Owner (administrator) stopped acting as you")
    expect(activity).to_contain_text(f"Reason: {REASON}")
    activity.scroll_into_view_if_needed()
    shot(page, "impersonation_activity")
