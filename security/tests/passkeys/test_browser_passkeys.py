"""A person adds a passkey in a real Chromium whose virtual authenticator (the DevTools
protocol's WebAuthn domain) plays the phone's or laptop's platform authenticator, then
signs in with password + passkey and passwordless, and removes it. An authenticator the
panel never registered is refused.

The browser talks to the live server as ``localhost``: an IP address is not a valid
relying party id, and SITE_URL (the relying party) is set to that address.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit.models import AuditEvent
from security.lockout.models import Lockout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def base(live_server, settings) -> str:
    url = live_server.url.replace("127.0.0.1", "localhost")
    settings.SITE_URL = url
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    return url


@pytest.fixture
def authenticator(page: Page):
    """A virtual platform authenticator (resident keys, user verification) in the page's
    browser: ``(cdp session, authenticator id)``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def sign_in_with_password(page: Page, base: str, login: str, password: str) -> None:
    page.goto(base + "/auth/login/")
    page.get_by_label("Email or username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Page) -> None:
    page.locator("details.usermenu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def add_passkey(page: Page, base: str, password: str, name: str) -> None:
    page.goto(base + "/settings/security/")
    page.get_by_role("link", name="Add a passkey").click()
    # Adding one needs a fresh step-up: the sign-in a moment ago counts as one.
    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    shot(page, "passkey_add")
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(base + "/settings/security/")


def test_a_person_adds_a_passkey_signs_in_with_it_twice_and_removes_it(
    page: Page, base: str, authenticator, user_factory, password
):
    cdp, authenticator_id = authenticator
    user_factory("dana", email="dana@example.com", full_name="Dana Reyes")

    sign_in_with_password(page, base, "dana", password)
    expect(page).to_have_url(base + "/dashboard/")
    add_passkey(page, base, password, "Work laptop")
    expect(page.get_by_text("Passkey “Work laptop” added.")).to_be_visible()
    passkeys = page.locator("#passkeys")
    expect(passkeys.get_by_text("Work laptop")).to_be_visible()
    expect(passkeys.get_by_text("Never used")).to_be_visible()
    shot(page, "passkeys_section")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

    # Password, then the passkey as the second factor ("Use your passkey" comes first).
    sign_out(page)
    sign_in_with_password(page, base, "dana", password)
    expect(page).to_have_url(base + "/auth/2fa/")
    shot(page, "passkey_2fa")
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(base + "/dashboard/")

    # Passwordless: the passkey alone, from the sign-in page.
    sign_out(page)
    shot(page, "passkey_login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(base + "/dashboard/")
    methods = list(
        AuditEvent.objects.filter(action="signin", outcome="success")
        .order_by("pk")
        .values_list("metadata__method", flat=True)
    )
    assert methods == ["password", "passkey", "passkey"]

    # Rename, then remove, 16 minutes later: the sign-in no longer counts as a step-up.
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
        page.goto(base + "/settings/security/")
        page.locator("#passkeys").get_by_role("link", name="Rename Work laptop").click()
        page.get_by_role("textbox", name="Name").fill("Old laptop")
        page.get_by_role("button", name="Save").click()
        page.locator("#passkeys").get_by_role("link", name="Remove Old laptop").click()
        # The step-up takes the passkey as well as the password.
        expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
        shot(page, "passkey_stepup")
        page.get_by_role("button", name="Use your passkey").click()
        expect(page.get_by_text("This is your last second factor")).to_be_visible()
        shot(page, "passkey_remove")
        page.get_by_role("button", name="Remove passkey").click()
        expect(
            page.get_by_text("Passkey removed. Two-factor authentication is off.")
        ).to_be_visible()
        expect(page.locator("#passkeys").get_by_text("No passkeys yet.")).to_be_visible()


def _unregistered_credential(rp_id: str) -> dict:
    """A discoverable credential for the panel's relying party that the panel never saw."""
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {
        "credentialId": base64.b64encode(secrets.token_bytes(32)).decode(),
        "isResidentCredential": True,
        "rpId": rp_id,
        "privateKey": base64.b64encode(pkcs8).decode(),
        "userHandle": base64.b64encode(secrets.token_bytes(32)).decode(),
        "signCount": 0,
    }


def test_an_authenticator_that_was_never_registered_is_refused(
    page: Page, base: str, authenticator, user_factory, password
):
    cdp, first = authenticator
    user_factory("dana", email="dana@example.com")
    sign_in_with_password(page, base, "dana", password)
    add_passkey(page, base, password, "Phone")
    sign_out(page)

    # Another authenticator, with a passkey for this site the panel never registered.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
    second = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": second["authenticatorId"],
            "credential": _unregistered_credential("localhost"),
        },
    )

    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("That passkey could not be used")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    assert AuditEvent.objects.filter(
        action="passkey_failed", metadata__reason="unknown_credential"
    ).exists()
    assert not AuditEvent.objects.filter(action="signin", metadata__method="passkey").exists()

    # At the second step it offers nothing the panel asked for: the prompt fails, the
    # page says so and the authenticator app and backup codes stay offered... this
    # account has only the passkey, so the page keeps the passkey way open.
    sign_in_with_password(page, base, "dana", password)
    expect(page).to_have_url(base + "/auth/2fa/")
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("closed or timed out")
    expect(page.get_by_role("button", name="Use your passkey")).to_be_visible()
    assert not Lockout.objects.filter(username="dana", failures__gt=1).exists()
