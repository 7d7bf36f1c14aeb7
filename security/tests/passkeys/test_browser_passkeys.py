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
from panel.tests.browser import sign_in as sign_in_with_password
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


# Chromium's virtual authenticator answers an autofill (conditional mediation) request at
# once: with the site's passkey if it holds one, else with a refusal. No person is
# asked; the autofill list in the username field is never shown headless. To let a test
# see what a real browser does while the person has not yet picked a passkey (the
# request waits), this script holds every conditional request, as a browser with its
# list not yet opened does, and ``window.__pickPasskey()`` plays the person picking the
# passkey: the held request's own options go to the virtual authenticator. What the
# page's script did (each conditional request with its challenge, each abort, each
# prompt and whether a conditional request was still waiting) is logged in
# sessionStorage, so it survives the form's post.
HOLD_AUTOFILL = """
(() => {
  const real = navigator.credentials.get.bind(navigator.credentials);
  const log = (entry) => {
    const all = JSON.parse(sessionStorage.getItem("passkeyLog") || "[]");
    all.push(entry);
    sessionStorage.setItem("passkeyLog", JSON.stringify(all));
  };
  let held = null;
  navigator.credentials.get = function (options) {
    if (options && options.mediation === "conditional") {
      const bytes = new Uint8Array(options.publicKey.challenge);
      const challenge = btoa(String.fromCharCode.apply(null, bytes));
      log({ kind: "conditional", challenge: challenge });
      return new Promise((resolve, reject) => {
        const mine = { waiting: true, challenge: challenge };
        held = mine;
        options.signal.addEventListener("abort", () => {
          mine.waiting = false;
          log({ kind: "abort", challenge: challenge });
          reject(new DOMException("The request was aborted.", "AbortError"));
        });
        mine.pick = () => {
          mine.waiting = false;
          return real({ publicKey: options.publicKey }).then(resolve, reject);
        };
      });
    }
    log({ kind: "prompt", conditionalWaiting: !!(held && held.waiting) });
    return real(options);
  };
  window.__pickPasskey = () => held.pick();
})();
"""


def passkey_log(page: Page) -> list[dict]:
    return page.evaluate("JSON.parse(sessionStorage.getItem('passkeyLog') || '[]')")


@pytest.fixture
def held_autofill(page: Page) -> Page:
    """The page's autofill requests wait for ``window.__pickPasskey()``."""
    page.add_init_script(HOLD_AUTOFILL)
    return page


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
    held_autofill, page: Page, base: str, authenticator, user_factory, password
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
    held_autofill, page: Page, base: str, authenticator, user_factory, password
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


# --- The browser's autofill of passkeys (conditional mediation) -------------------------


def options_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url) if request.url.endswith("/auth/passkey/options/") else None
        ),
    )
    return seen


def dana_with_a_passkey(page: Page, base: str, user_factory, password) -> None:
    user_factory("dana", email="dana@example.com")
    sign_in_with_password(page, base, "dana", password)
    add_passkey(page, base, password, "Phone")


def test_chromium_answers_the_autofill_request_and_the_passkey_signs_in(
    page: Page, base: str, authenticator, user_factory, password
):
    """No stand-in: Chromium's own conditional mediation with its virtual authenticator,
    which answers at once (as if the person picked the passkey from the list)."""
    dana_with_a_passkey(page, base, user_factory, password)
    fetched = options_requests(page)
    # Signing out lands on the sign-in page; its script asks for the autofill, the
    # browser answers with the passkey, and the form posts it. No button is pressed.
    page.locator("details.usermenu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(base + "/dashboard/")
    assert len(fetched) == 1
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "outcome", "metadata"))[
        -2:
    ]
    assert events == [("signout", "success", {}), ("signin", "success", {"method": "passkey"})]


def test_the_username_field_offers_the_passkey_and_picking_it_signs_in(
    held_autofill, page: Page, base: str, authenticator, user_factory, password
):
    dana_with_a_passkey(page, base, user_factory, password)
    sign_out(page)
    username = page.get_by_label("Email or username")
    expect(username).to_have_attribute("autocomplete", "username webauthn")
    form = page.locator("form[data-passkey-form=signin]")
    expect(form).to_have_attribute("data-autofill-state", "waiting")
    shot(page, "passkey_login_autofill")
    log = passkey_log(page)
    assert [entry["kind"] for entry in log] == ["conditional"]
    # The person picks the passkey in the username field's list.
    username.click()
    page.evaluate("window.__pickPasskey()")
    expect(page).to_have_url(base + "/dashboard/")
    assert AuditEvent.objects.filter(
        action="signin", outcome="success", metadata__method="passkey"
    ).exists()


def test_the_button_aborts_the_waiting_autofill_request_before_its_own_prompt(
    held_autofill, page: Page, base: str, authenticator, user_factory, password
):
    dana_with_a_passkey(page, base, user_factory, password)
    sign_out(page)
    expect(page.locator("form[data-passkey-form=signin]")).to_have_attribute(
        "data-autofill-state", "waiting"
    )
    fetched = options_requests(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(base + "/dashboard/")
    log = passkey_log(page)
    assert [entry["kind"] for entry in log] == ["conditional", "abort", "prompt"]
    assert log[2]["conditionalWaiting"] is False
    assert len(fetched) == 1  # the button's own challenge


def test_a_sign_in_page_left_open_gets_a_fresh_challenge_before_the_old_one_expires(
    held_autofill, page: Page, base: str, authenticator, user_factory, password
):
    """The server refuses a challenge older than five minutes; the page starts its
    autofill request again before that (the page's clock is Playwright's, the server's
    time-machine's), so a passkey picked after ten minutes still signs in."""
    dana_with_a_passkey(page, base, user_factory, password)
    sign_out(page)
    # The sign-in page reached after signing out starts its own request: let it log that
    # before the log is cleared, or its entry lands in the log of the reloaded page.
    expect(page.locator("form[data-passkey-form=signin]")).to_have_attribute(
        "data-autofill-state", "waiting"
    )
    page.clock.install()
    page.evaluate("sessionStorage.removeItem('passkeyLog')")
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        page.reload()
        form = page.locator("form[data-passkey-form=signin]")
        expect(form).to_have_attribute("data-autofill-state", "waiting")
        # Each refresh aborts the waiting request and starts one with a new challenge.
        for entries in (3, 5):
            traveller.shift(4 * 60 + 31)
            page.clock.run_for("04:31")
            page.wait_for_function(
                "n => JSON.parse(sessionStorage.getItem('passkeyLog') || '[]').length >= n",
                arg=entries,
                polling=100,
            )
            expect(form).to_have_attribute("data-autofill-state", "waiting")
        traveller.shift(60)
        page.clock.run_for("01:00")
        log = passkey_log(page)
        assert [entry["kind"] for entry in log] == [
            "conditional",
            "abort",
            "conditional",
            "abort",
            "conditional",
        ]
        assert len({entry["challenge"] for entry in log}) == 3
        page.evaluate("window.__pickPasskey()")
        expect(page).to_have_url(base + "/dashboard/")
    assert not AuditEvent.objects.filter(action="passkey_failed").exists()


def test_a_password_posted_while_the_autofill_challenge_is_on_its_way_waits_for_it(
    held_autofill, page: Page, base: str, user_factory, password
):
    """The challenge's response may start the visitor's session: a password posted
    before it arrives would race it, and the later Set-Cookie (the anonymous session)
    could win. The form waits for it."""
    user_factory("dana", email="dana@example.com")
    held = []
    page.route("**/auth/passkey/options/", lambda route: held.append(route))
    posted = []
    page.on(
        "request",
        lambda request: posted.append(request.url) if request.method == "POST" else None,
    )
    page.goto(base + "/auth/login/")
    while not held:
        page.wait_for_timeout(50)
    page.get_by_label("Email or username").fill("dana")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()  # no wait: it is held
    page.wait_for_timeout(500)
    assert posted == [base + "/auth/passkey/options/"]  # the password waits
    held[0].continue_()
    expect(page).to_have_url(base + "/dashboard/")
    assert posted == [base + "/auth/passkey/options/", base + "/auth/login/"]
    expect(page.get_by_role("heading", name="Welcome, Dana")).to_be_visible()
