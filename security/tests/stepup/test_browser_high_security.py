"""In Chromium: High Security Mode as a superuser and as a team Owner meet it. A blocked
page asks for the code, the pyotp code is typed, the page comes back and a change is
saved; a refused form is sent again after the step-up. Screenshots in /tmp/shots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from panel.tests.browser import press_sign_in
from security.models import BlockedNetwork
from security.stepup import services
from security.tests.helpers import enroll
from teams import services as team_services
from teams.models import Team

SHOTS = Path("/tmp/shots")
PASSWORD = "velvet orbit canyon 7 lantern"


@pytest.fixture
def static_from_finders(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"hsm-{name}.png"), full_page=True)


def sign_in_minutes_ago(page: Page, base: str, login: str, enrolled, minutes: int) -> None:
    """Password and TOTP code, ``minutes`` ago (so the sign-in no longer counts as the
    step-up)."""
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes), tick=True):
        page.goto(base + "/auth/login/")
        page.get_by_label("Email or username").fill(login)
        page.get_by_label("Password").fill(PASSWORD)
        press_sign_in(page)
        page.get_by_label("Authentication code").fill(enrolled.code())
        page.get_by_role("button", name="Verify").click()
        expect(page).to_have_url(base + "/dashboard/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_superuser_verifies_with_the_code_on_a_blocked_page_and_saves_a_change(
    live_server, page, static_from_finders, user_factory
):
    root = user_factory("root", password=PASSWORD, is_staff=True, is_superuser=True)
    enrolled = enroll(root)
    services.set_panel_high_security(enabled=True, actor=root)
    base = live_server.url
    sign_in_minutes_ago(page, base, "root", enrolled, 20)

    page.goto(base + "/operations/blocks/")
    expect(
        page.get_by_role("heading", name="Verify with two-factor authentication")
    ).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    shot(page, "stepup")
    page.get_by_label("Authentication code").fill(enrolled.authenticator.now())
    page.get_by_role("button", name="Verify").click()

    expect(page).to_have_url(base + "/operations/blocks/")
    page.get_by_label("IP address or network").fill("198.51.100.0/24")
    page.get_by_label("Reason").fill("Credential stuffing")
    page.get_by_role("button", name="Block").click()
    expect(page.get_by_text("Blocked 198.51.100.0/24.")).to_be_visible()
    assert BlockedNetwork.objects.filter(network="198.51.100.0/24").exists()

    # The High Security settings page itself (verified: it opens).
    page.get_by_role("link", name="High Security").click()
    expect(page.get_by_role("heading", name="Policy table")).to_be_visible()
    expect(page.locator("[data-hsm-state]").first).to_have_text("on")
    shot(page, "settings")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_owner_turns_it_on_and_a_refused_change_is_sent_again_after_the_code(
    live_server, page, static_from_finders, user_factory
):
    olive = user_factory("olive", password=PASSWORD, full_name="Olive Owner")
    enrolled = enroll(olive)
    team = team_services.team_create(name="Acme", owner=olive)
    base = live_server.url
    sign_in_minutes_ago(page, base, "olive", enrolled, 0)

    page.goto(f"{base}/teams/{team.pk}/high-security/")
    shot(page, "team-off")
    page.get_by_role("button", name="Turn High Security Mode on").click()
    expect(page.get_by_text("High Security Mode is on for Acme.")).to_be_visible()
    shot(page, "team-on")
    assert Team.objects.get(pk=team.pk).high_security

    # Twenty minutes later the sign-in is stale: the policy page is blocked for an Owner,
    # and the change posted from it (say, from a tab left open) is kept for after the code.
    with time_machine.travel(timezone.now() + timedelta(minutes=20), tick=True):
        page.goto(f"{base}/teams/{team.pk}/policy/")
        expect(
            page.get_by_role("heading", name="Verify with two-factor authentication")
        ).to_be_visible()
        page.go_back()
        page.evaluate(
            """([action]) => {
                const form = document.createElement('form');
                form.method = 'post'; form.action = action;
                const csrf = document.querySelector('input[name=csrfmiddlewaretoken]');
                for (const [name, value] of [
                    ['csrfmiddlewaretoken', csrf.value], ['min_password_length', '16']]) {
                    const input = document.createElement('input');
                    input.type = 'hidden'; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form); form.submit();
            }""",
            [f"/teams/{team.pk}/policy/"],
        )
        expect(
            page.get_by_role("heading", name="Verify with two-factor authentication")
        ).to_be_visible()
        page.get_by_label("Authentication code").fill(enrolled.authenticator.now())
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("heading", name="You're verified")).to_be_visible()
        shot(page, "resume")
        page.get_by_role("button", name="Save the change").click()
        expect(page.get_by_text("The security policy of Acme was saved.")).to_be_visible()
    assert Team.objects.get(pk=team.pk).min_password_length == 16
