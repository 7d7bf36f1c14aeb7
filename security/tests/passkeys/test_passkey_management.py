"""Security tab > Passkeys and security keys: adding (step-up, email, audit), renaming,
removing (step-up; the last second factor follows the rules of turning 2FA off), and the
rules around them: a password reset keeps passkeys, ``disable_2fa`` removes them, an
IP-address SITE_URL hides them and a system check says why."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django_otp_webauthn.models import WebAuthnCredential

from accounts.services import reset_password
from audit.models import AuditEvent
from panel.checks import check_site_url_can_host_passkeys
from security.tests.helpers import browser, emails, sign_in
from security.tests.passkeys.authenticator import SoftAuthenticator
from security.tests.passkeys.conftest import SITE, add_passkey, options

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_browser(alice, password):
    client = browser()
    assert sign_in(client, alice, password)["Location"] == "/dashboard/"
    session = client.session
    session.pop("_stepup_at", None)  # the sign-in counted as a step-up: not fresh now
    session.save()
    return client


def step_up(client, password):
    client.post("/settings/sessions/confirm/", {"password": password, "next": "/"})


# --- Adding ---------------------------------------------------------------------------


def test_adding_a_passkey_needs_a_fresh_step_up(alice_browser):
    response = alice_browser.get("/settings/security/passkeys/add/")
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/sessions/confirm/")
    response = alice_browser.post("/settings/security/passkeys/add/options/", {"name": "Laptop"})
    assert response.status_code == 403 and "Confirm it's you" in response.json()["error"]


def test_a_passkey_is_added_with_its_name_audited_and_announced_by_email(
    alice, alice_browser, password
):
    response = add_passkey(alice_browser, password, SoftAuthenticator(origin=SITE), "Work laptop")
    assert response.status_code == 302 and response["Location"] == "/settings/security/"
    credential = WebAuthnCredential.objects.get(user=alice)
    assert credential.name == "Work laptop" and credential.confirmed
    assert credential.discoverable is True
    event = AuditEvent.objects.get(action="passkey_added")
    assert event.user == alice and event.metadata["passkey_id"] == credential.pk
    [notice] = emails("passkey_added")
    assert "Work laptop" in notice.body_text
    page = alice_browser.get("/settings/security/").content.decode()
    assert "Work laptop" in page and "Security key" in page and "Never used" in page


def test_the_card_says_when_each_passkey_was_last_used_as_time_goes_on(
    alice, alice_browser, password
):
    """The card is kept per state (include_pure): its "Last used" text is part of the
    state, so the same passkey reads differently an hour later."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    add_passkey(alice_browser, password, SoftAuthenticator(origin=SITE), "Work laptop")
    used = timezone.now() - timedelta(minutes=5)
    WebAuthnCredential.objects.filter(user=alice).update(last_used_at=used)
    page = alice_browser.get("/settings/security/").content.decode()
    # The no-break space written as an entity: the panel's markup is ASCII.
    assert "Last used 5&nbsp;minutes ago" in page and "Never used" not in page
    with time_machine.travel(used + timedelta(minutes=25, seconds=5)):
        later = alice_browser.get("/settings/security/").content.decode()
    assert "Last used 25&nbsp;minutes ago" in later
    assert "Added " + f"{used.day} {used:%b %Y}" in page


def test_a_first_passkey_turns_2fa_on_and_signs_out_the_other_sessions(
    alice, alice_browser, password
):
    other = browser("203.0.113.70")
    sign_in(other, alice, password)
    add_passkey(alice_browser, password, SoftAuthenticator(origin=SITE))
    assert other.get("/dashboard/").status_code == 302  # signed out
    assert alice_browser.get("/dashboard/").status_code == 200
    page = alice_browser.get("/settings/security/").content.decode()
    assert "Signing in asks for your passkey after your password" in page


def test_a_registration_for_another_origin_is_refused_and_audited(alice, alice_browser, password):
    step_up(alice_browser, password)
    authenticator = SoftAuthenticator(origin=SITE)
    created = authenticator.create(
        options(alice_browser, "/settings/security/passkeys/add/options/", name="Laptop"),
        origin="https://evil.example",
    )
    response = alice_browser.post(
        "/settings/security/passkeys/add/", {"credential": json.dumps(created)}
    )
    assert response.status_code == 400
    assert "could not be added" in response.content.decode()
    assert not WebAuthnCredential.objects.exists()
    event = AuditEvent.objects.get(action="passkey_failed")
    assert event.metadata == {"ceremony": "register", "reason": "invalid"}


def test_a_registration_answer_without_a_pending_request_is_refused(alice_browser, password):
    step_up(alice_browser, password)
    created = SoftAuthenticator(origin=SITE).create({"challenge": "AAAA", "user": {"id": "AAAA"}})
    response = alice_browser.post(
        "/settings/security/passkeys/add/", {"credential": json.dumps(created)}
    )
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_a_dismissed_registration_prompt_changes_nothing(alice_browser, password):
    step_up(alice_browser, password)
    options(alice_browser, "/settings/security/passkeys/add/options/", name="Laptop")
    response = alice_browser.post("/settings/security/passkeys/add/", {"error": "cancelled"})
    assert (
        response.status_code == 302 and response["Location"] == "/settings/security/passkeys/add/"
    )
    assert not WebAuthnCredential.objects.exists()


def test_a_passkey_needs_a_name(alice_browser, password):
    step_up(alice_browser, password)
    response = alice_browser.post("/settings/security/passkeys/add/options/", {"name": "   "})
    assert response.status_code == 400 and response.json()["error"] == "Give the passkey a name."


def test_without_javascript_the_add_page_says_what_passkeys_need(alice_browser, password):
    step_up(alice_browser, password)
    page = alice_browser.get("/settings/security/passkeys/add/").content.decode()
    assert "needs JavaScript and a browser that supports passkeys" in page
    assert 'data-passkey-form="register"' in page and " hidden>" in page
    assert "<script src=" in page and "passkeys.js" in page


# --- Renaming and removing ------------------------------------------------------------


@pytest.fixture
def alice_with_passkey(alice, alice_browser, password):
    add_passkey(alice_browser, password, SoftAuthenticator(origin=SITE), "Laptop")
    return WebAuthnCredential.objects.get(user=alice)


def test_a_passkey_is_renamed_and_the_rename_audited(alice, alice_browser, alice_with_passkey):
    response = alice_browser.post(
        f"/settings/security/passkeys/{alice_with_passkey.pk}/rename/", {"name": "  Old   laptop "}
    )
    assert response.status_code == 302
    alice_with_passkey.refresh_from_db()
    assert alice_with_passkey.name == "Old laptop"
    assert AuditEvent.objects.filter(action="passkey_renamed", user=alice).exists()


def test_another_users_passkey_cannot_be_renamed_or_removed(bob, password, alice_with_passkey):
    bobs = browser("203.0.113.71")
    sign_in(bobs, bob, password)
    step_up(bobs, password)
    for action in ("rename", "remove"):
        url = f"/settings/security/passkeys/{alice_with_passkey.pk}/{action}/"
        assert bobs.get(url).status_code == 404
        assert bobs.post(url, {"name": "mine"}).status_code == 404
    assert WebAuthnCredential.objects.get(pk=alice_with_passkey.pk).name == "Laptop"


def test_removing_a_passkey_needs_a_fresh_step_up(alice_browser, alice_with_passkey):
    # The step-up of adding is still fresh: age it.
    session = alice_browser.session
    session["_stepup_at"] = 0
    session.save()
    url = f"/settings/security/passkeys/{alice_with_passkey.pk}/remove/"
    response = alice_browser.post(url)
    assert response.status_code == 302 and "/settings/sessions/confirm/" in response["Location"]
    assert WebAuthnCredential.objects.filter(pk=alice_with_passkey.pk).exists()


def test_removing_the_last_passkey_turns_2fa_off_as_disabling_it_does(
    alice, alice_browser, alice_with_passkey
):
    url = f"/settings/security/passkeys/{alice_with_passkey.pk}/remove/"
    assert "This is your last second factor" in alice_browser.get(url).content.decode()
    response = alice_browser.post(url)
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.exists()
    assert AuditEvent.objects.filter(action="passkey_removed", user=alice).exists()
    event = AuditEvent.objects.get(action="2fa_disabled")
    assert event.metadata == {"method": "passkey_removed"}
    [notice] = emails("2fa_disabled")
    assert "Your last passkey" in notice.body_text


def test_removing_a_passkey_beside_the_authenticator_app_keeps_2fa_on(
    alice, alice_browser, alice_with_passkey, enroll_totp
):
    enroll_totp(alice)
    url = f"/settings/security/passkeys/{alice_with_passkey.pk}/remove/"
    assert "last second factor" not in alice_browser.get(url).content.decode()
    alice_browser.post(url)
    assert not AuditEvent.objects.filter(action="2fa_disabled").exists()
    assert len(emails("passkey_removed")) == 1


# --- The rules around them ------------------------------------------------------------


def test_a_password_reset_keeps_the_passkeys(alice, alice_with_passkey):
    reset_password(user=alice, new_password="a brand new passphrase 42")
    assert WebAuthnCredential.objects.filter(user=alice).exists()


def test_disable_2fa_removes_the_passkeys_too(alice, alice_with_passkey, capsys):
    call_command("disable_2fa", "alice")
    assert not WebAuthnCredential.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="2fa_disabled_by_operator", user=alice).exists()
    assert "passkeys" in emails("2fa_disabled")[-1].body_text


def test_an_ip_address_site_url_hides_the_passkey_buttons_and_warns(
    settings, client, alice_browser
):
    settings.SITE_URL = "http://127.0.0.1:8000"
    [warning] = check_site_url_can_host_passkeys(None)
    assert warning.id == "panel.W010"
    assert "Sign in with a passkey" not in client.get("/auth/login/").content.decode()
    page = alice_browser.get("/settings/security/").content.decode()
    assert "Add a passkey" not in page and "Passkeys are not available" in page
    assert client.post("/auth/passkey/options/").status_code == 400


def test_a_host_name_site_url_raises_no_warning(settings):
    settings.SITE_URL = "http://localhost:8000"
    assert check_site_url_can_host_passkeys(None) == []


def test_the_login_page_offers_a_passkey_only_with_javascript(client):
    page = client.get("/auth/login/").content.decode()
    assert 'data-passkey-form="signin"' in page
    assert "needs JavaScript and a browser that supports passkeys" in page
    assert "passkeys.js" in page


def test_removing_the_authenticator_app_leaves_2fa_on_with_the_passkeys(
    alice, alice_browser, alice_with_passkey, enroll_totp
):
    enrolled = enroll_totp(alice)
    response = alice_browser.post("/settings/security/2fa/disable/", {"code": enrolled.code()})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="2fa_disabled").exists()
    assert AuditEvent.objects.get(action="totp_removed").metadata == {"method": "totp"}
    notice = emails("2fa_disabled")[-1]
    assert "authenticator app was removed" in notice.subject
    assert "stays on" in notice.body_text
    page = alice_browser.get("/settings/security/").content.decode()
    assert "Your passkeys still protect your sign-in" in page
    assert "Signing in asks for your passkey after your password" in page


def test_a_credential_id_registered_already_is_refused_not_a_500(alice_browser, password, bob):
    authenticator = SoftAuthenticator(origin=SITE)
    assert add_passkey(alice_browser, password, authenticator).status_code == 302
    # Bob's browser sends Alice's credential id (nothing at registration proves the key).
    bobs = browser("203.0.113.72")
    sign_in(bobs, bob, password)
    response = add_passkey(bobs, password, authenticator)
    assert response.status_code == 400
    assert "could not be added" in response.content.decode()
    assert list(WebAuthnCredential.objects.values_list("user__username", flat=True)) == ["alice"]
    event = AuditEvent.objects.filter(action="passkey_failed").latest("pk")
    assert event.user == bob and event.metadata == {"ceremony": "register", "reason": "duplicate"}
