"""High Security Mode: the 2FA step-up, what a sign-in counts for, the kept form post, the
switches (2FA needed to turn one on, audited) and the policy table (page and admin)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from security.models import HighSecurityRule, PanelHighSecurity
from security.stepup import high_security, pages, services, state
from security.tests.helpers import enroll, sign_in, start_two_factor, submit_code
from teams import services as team_services
from teams.models import Membership, Role, Team

pytestmark = pytest.mark.django_db

STEPUP = "/settings/sessions/confirm/"


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    cache.clear()
    yield
    cache.clear()


def signed_in(user, password, enrolled=None, *, minutes_ago: int = 0, ip: str = "203.0.113.9"):
    """A browser signed in through the real pipeline ``minutes_ago`` minutes ago."""
    client = Client(REMOTE_ADDR=ip, raise_request_exception=False)
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=True):
        if enrolled is None:
            assert sign_in(client, user, password)["Location"] == "/dashboard/"
        else:
            start_two_factor(client, user, password)
            assert submit_code(client, enrolled.code())["Location"] == "/dashboard/"
    return client


@pytest.fixture
def acme(alice):
    team = team_services.team_create(name="Acme", owner=alice)
    return team


@pytest.fixture
def alice_2fa(alice):
    return enroll(alice)


def hsm_on(team: Team) -> None:
    team_services.team_set_high_security(actor=None, team=team, enabled=True, as_operator=True)


def age(client) -> None:
    """Make this browser's step-up 16 minutes old."""
    session = client.session
    session[state.STEPUP_KEY] = session[state.VERIFIED_KEY] = 0
    session.save()


def stepup_target(response) -> tuple[str, dict]:
    url = urlsplit(response["Location"])
    return url.path, parse_qs(url.query)


# --- The step-up with a second factor ------------------------------------------------------


def test_a_blocked_page_asks_for_the_code_and_comes_back_with_a_new_session_key(
    alice, alice_2fa, acme, password
):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    page = f"/teams/{acme.pk}/policy/"
    response = client.get(page)
    assert stepup_target(response) == (STEPUP, {"next": [page], "level": ["2fa"]})

    form = client.get(response["Location"]).content.decode()
    assert "Verify with two-factor authentication" in form
    assert 'name="password"' not in form and "Use your password instead" not in form

    old_key = client.cookies["sessionid"].value
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        done = client.post(STEPUP, {"code": alice_2fa.code(), "level": "2fa", "next": page})
        assert done.status_code == 302 and done["Location"] == page
        assert client.cookies["sessionid"].value != old_key
        assert client.get(page).status_code == 200
    event = AuditEvent.objects.filter(action="stepup").latest("pk")
    assert event.metadata == {"factor": "totp", "high_security_verified": True}


def test_the_password_does_not_count_as_the_high_security_step_up(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    response = client.post(STEPUP, {"password": password, "next": "/dashboard/"})
    assert response.status_code == 302  # the ordinary step-up: fine for @stepup_required
    assert client.get(f"/teams/{acme.pk}/policy/")["Location"].startswith(STEPUP)
    # With level=2fa a password field is not even read.
    refused = client.post(STEPUP, {"password": password, "level": "2fa", "next": "/"})
    assert refused.status_code == 400


def test_a_backup_code_steps_up_once_and_is_used_up(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    code = alice_2fa.codes[0]
    page = f"/teams/{acme.pk}/members/"
    done = client.post(STEPUP, {"code": code, "level": "2fa", "next": page})
    assert done["Location"] == page
    assert client.get(page).status_code == 200

    age(client)
    again = client.post(STEPUP, {"code": code, "level": "2fa", "next": page})
    assert again.status_code == 400 and "That code is not right." in again.content.decode()


def test_a_wrong_code_is_audited_and_counted_in_the_lockout(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    response = client.post(STEPUP, {"code": "000000", "level": "2fa", "next": "/"})
    assert response.status_code == 400
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1
    event = AuditEvent.objects.filter(action="stepup", outcome="failure").get()
    assert event.metadata == {"factor": "totp"}


def test_an_account_without_2fa_meeting_a_blocked_page_is_sent_to_enroll(alice, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password)
    response = client.get(f"/teams/{acme.pk}/policy/", follow=True)
    assert response.redirect_chain[0][0] == "/settings/security/2fa/enable/"
    assert "High Security Mode is on for this page" in response.content.decode()


# --- A sign-in counts as a step-up ------------------------------------------------------------


def test_a_sign_in_with_the_second_factor_counts_as_the_high_security_step_up(
    alice, alice_2fa, acme, password
):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa)
    assert client.get(f"/teams/{acme.pk}/policy/").status_code == 200
    assert state.VERIFIED_KEY in client.session


def test_a_password_only_sign_in_counts_for_the_ordinary_step_up_only(user_factory, password):
    sam = user_factory("sam")
    client = signed_in(sam, password)
    assert state.STEPUP_KEY in client.session and state.VERIFIED_KEY not in client.session


# --- Read-only pages and the kept form ------------------------------------------------------


def test_a_read_only_page_says_so_and_a_change_needs_the_step_up(
    alice, alice_2fa, acme, user_factory, password
):
    dave = user_factory("dave")
    dave_2fa = enroll(dave)
    Membership.objects.create(
        team=acme, user=dave, role=Role.objects.get(team=None, name="Developer")
    )
    hsm_on(acme)
    client = signed_in(dave, password, dave_2fa, minutes_ago=16)
    page = client.get(f"/teams/{acme.pk}/members/").content.decode()
    assert "Read-only." in page and "Verify to make changes" in page
    # The link is the 2FA step-up, back to this page.
    assert "level=2fa" in page

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        client.post(STEPUP, {"code": dave_2fa.code(), "level": "2fa", "next": "/"})
        after = client.get(f"/teams/{acme.pk}/members/").content.decode()
    assert "Verify to make changes" not in after


def test_a_refused_form_is_offered_again_after_the_step_up(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    page = f"/teams/{acme.pk}/policy/"
    refused = client.post(
        page, {"min_password_length": "16", "single_session": "on"}, HTTP_REFERER=page
    )
    assert stepup_target(refused) == (STEPUP, {"next": [page], "level": ["2fa"]})
    assert Team.objects.get(pk=acme.pk).min_password_length is None

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        resume = client.post(STEPUP, {"code": alice_2fa.code(), "level": "2fa", "next": page})
        assert resume.status_code == 200
        body = resume.content.decode()
        assert "Save the change" in body and f'action="{page}"' in body
        assert 'name="min_password_length" value="16"' in body
        saved = client.post(page, {"min_password_length": "16", "single_session": "on"})
    assert saved.status_code == 302
    team = Team.objects.get(pk=acme.pk)
    assert team.min_password_length == 16 and team.single_session


def test_a_form_with_a_secret_field_is_not_kept(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    page = f"/teams/{acme.pk}/policy/"
    refused = client.post(page, {"password": "hunter2 hunter2"}, HTTP_REFERER=page)
    assert stepup_target(refused) == (STEPUP, {"next": [page], "level": ["2fa"]})
    assert "_hs_resume" not in client.session
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        done = client.post(STEPUP, {"code": alice_2fa.code(), "level": "2fa", "next": page})
    assert done.status_code == 302 and done["Location"] == page


def test_a_form_posted_from_elsewhere_is_refused_and_never_sent_back_there(
    alice, alice_2fa, acme, password
):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    response = client.post(
        f"/teams/{acme.pk}/members/1/remove/", HTTP_REFERER="https://evil.example/form"
    )
    # Refused before the view ran; back to the dashboard, never to the other site.
    path, query = stepup_target(response)
    assert path == STEPUP and query["level"] == ["2fa"]
    assert query["next"] in (["/dashboard/"], [f"/teams/{acme.pk}/members/1/remove/"])
    assert Membership.objects.filter(team=acme, user=alice).exists()


def test_leaving_a_team_is_never_held_back(alice, acme, user_factory, password):
    dave = user_factory("dave")
    Membership.objects.create(
        team=acme, user=dave, role=Role.objects.get(team=None, name="Developer")
    )
    hsm_on(acme)
    client = signed_in(dave, password)
    response = client.post(f"/teams/{acme.pk}/leave/")
    assert response.status_code == 302
    assert not Membership.objects.filter(team=acme, user=dave).exists()


# --- The switches -----------------------------------------------------------------------------


def test_an_owner_needs_2fa_to_turn_it_on_for_the_team(alice, acme, password):
    client = signed_in(alice, password)
    page = f"/teams/{acme.pk}/high-security/"
    assert "Turn on two-factor authentication on your own account first" in (
        client.get(page).content.decode()
    )
    response = client.post(page, {"enabled": "on"}, follow=True)
    assert "Turn on two-factor authentication on your own account" in response.content.decode()
    assert not Team.objects.get(pk=acme.pk).high_security
    assert not AuditEvent.objects.filter(action="high_security_enabled").exists()


def test_an_owner_with_2fa_turns_it_on_and_off_audited(alice, alice_2fa, acme, password):
    client = signed_in(alice, password, alice_2fa)
    page = f"/teams/{acme.pk}/high-security/"
    response = client.post(page, {"enabled": "on"}, follow=True)
    assert f"High Security Mode is on for {acme.name}." in response.content.decode()
    assert Team.objects.get(pk=acme.pk).high_security
    event = AuditEvent.objects.get(action="high_security_enabled")
    assert event.team_id == acme.pk and event.actor == alice
    assert event.metadata == {"scope": "team", "source": "page"}

    client.post(page, {"enabled": "off"})
    assert not Team.objects.get(pk=acme.pk).high_security
    assert AuditEvent.objects.filter(action="high_security_disabled", team_id=acme.pk).exists()


def test_turning_it_off_again_needs_the_step_up(alice, alice_2fa, acme, password):
    hsm_on(acme)
    client = signed_in(alice, password, alice_2fa, minutes_ago=16)
    response = client.post(f"/teams/{acme.pk}/high-security/", {"enabled": "off"})
    assert stepup_target(response)[0] == STEPUP
    assert Team.objects.get(pk=acme.pk).high_security


def test_a_superuser_turns_it_on_for_the_panel(operator, password):
    op_2fa = enroll(operator)
    client = signed_in(operator, password, op_2fa)
    response = client.post("/operations/high-security/switch/", {"enabled": "on"}, follow=True)
    assert "High Security Mode is on for the whole panel." in response.content.decode()
    assert PanelHighSecurity.objects.get(pk=1).enabled
    assert high_security.panel_enabled()
    event = AuditEvent.objects.get(action="high_security_enabled")
    assert event.actor == operator and event.metadata == {"scope": "panel", "source": "page"}


def test_a_superuser_without_2fa_cannot_turn_it_on(operator, password):
    client = signed_in(operator, password)
    response = client.post("/operations/high-security/switch/", {"enabled": "on"}, follow=True)
    assert "Turn on two-factor authentication on your own account" in response.content.decode()
    assert not PanelHighSecurity.objects.filter(enabled=True).exists()


def test_with_the_panel_mode_on_a_plain_users_session_revocation_needs_the_code(
    user_factory, password
):
    sam = user_factory("sam")
    sam_2fa = enroll(sam)
    services.set_panel_high_security(enabled=True)
    client = signed_in(sam, password, sam_2fa, minutes_ago=16)
    # Viewing the confirmation is read-only territory, but the page also needs the
    # ordinary step-up; posting needs the second factor.
    response = client.post("/settings/sessions/revoke-others/")
    assert stepup_target(response)[1]["level"] == ["2fa"]


# --- The policy table -------------------------------------------------------------------------


def test_the_policy_table_page_saves_changes_audited(operator, password):
    op_2fa = enroll(operator)
    client = signed_in(operator, password, op_2fa)
    page = client.get("/operations/high-security/")
    assert page.status_code == 200
    body = page.content.decode()
    for entry in pages.PAGES.values():
        assert entry.label in body
    data = {
        f"rule__{row['key']}__{cell['role']}": cell["action"]
        for row in services.policy_table()
        for cell in row["cells"]
    }
    data["rule__members__developer"] = pages.BLOCKED
    response = client.post("/operations/high-security/", data, follow=True)
    assert "Saved 1 change(s) to the policy table." in response.content.decode()
    assert HighSecurityRule.objects.get(page_key="members", role="developer").action == "blocked"
    event = AuditEvent.objects.get(action="high_security_policy_changed")
    assert event.metadata == {
        "changes": [{"page": "members", "role": "developer", "from": "read_only", "to": "blocked"}]
    }
    # Back to the default: the stored cell goes.
    data["rule__members__developer"] = pages.READ_ONLY
    client.post("/operations/high-security/", data)
    assert not HighSecurityRule.objects.exists()


def test_an_unknown_action_in_the_table_is_a_400_not_a_500(operator, password):
    op_2fa = enroll(operator)
    client = signed_in(operator, password, op_2fa)
    response = client.post("/operations/high-security/", {"rule__members__owner": "maybe"})
    assert response.status_code == 400
    assert "for every cell" in response.content.decode()


def test_the_admin_of_the_table_is_protected_like_the_page(operator, password):
    op_2fa = enroll(operator)
    services.set_panel_high_security(enabled=True)
    stale = signed_in(operator, password, op_2fa, minutes_ago=16)
    response = stale.get("/admin/security/highsecurityrule/")
    assert stepup_target(response)[0] == STEPUP
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        stale.post(STEPUP, {"code": op_2fa.code(), "level": "2fa", "next": "/"})
        assert stale.get("/admin/security/highsecurityrule/").status_code == 200
        added = stale.post(
            "/admin/security/highsecurityrule/add/",
            {"page_key": "roles", "role": "developer", "action": "open"},
        )
    assert added.status_code == 302
    assert HighSecurityRule.objects.get(page_key="roles", role="developer").action == "open"
    assert AuditEvent.objects.filter(action="high_security_policy_changed").exists()


def test_a_service_checks_again_whatever_page_called_it(alice, alice_2fa, acme, password):
    """The team policy service refuses a request without the step-up even when the view
    that called it declared nothing (here: the request of a dashboard visit)."""
    from security.exceptions import HighSecurityRequired

    hsm_on(acme)
    stale = signed_in(alice, password, alice_2fa, minutes_ago=16)
    request = stale.get("/dashboard/").wsgi_request
    with pytest.raises(HighSecurityRequired):
        team_services.policy_update(actor=alice, team=acme, request=request, single_session=True)
    assert not Team.objects.get(pk=acme.pk).single_session
