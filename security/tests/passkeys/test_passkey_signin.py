"""Signing in with a passkey, as the second factor at /auth/2fa/ and passwordless, and
every way an assertion is refused: refused with a clear 400, counted on the lockout,
audited, never a 500."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from audit.models import AuditEvent
from security.blocking.views import failures_by_ip
from security.lockout import policy as lockout
from security.lockout.models import Lockout
from security.models import TrackedSession
from security.tests.helpers import browser, sign_in
from security.tests.passkeys.authenticator import SoftAuthenticator
from security.tests.passkeys.conftest import (
    SITE,
    add_passkey,
    options,
    passkey_at_2fa,
    passwordless,
)

pytestmark = pytest.mark.django_db

SITE_OPTIONS = "/auth/passkey/options/"


def failures(username: str) -> int:
    attempt = AccessAttempt.objects.filter(username=username).first()
    return attempt.failures_since_start if attempt else 0


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- What works -----------------------------------------------------------------------


def test_a_password_then_the_passkey_signs_in_verified_through_the_pipeline(with_passkey, password):
    client, user = with_passkey.client, with_passkey.user
    assert sign_in(client, user, password)["Location"] == "/auth/2fa/"
    response = passkey_at_2fa(client, with_passkey.authenticator)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert signed_in(client)
    # The session counts as verified by the passkey (a django-otp device).
    credential = WebAuthnCredential.objects.get(user=user)
    assert client.session["otp_device_id"] == credential.persistent_id
    assert AuditEvent.objects.filter(action="signin", metadata__method="passkey").count() == 1
    assert TrackedSession.objects.filter(user=user, method="passkey").exists()
    credential.refresh_from_db()
    assert credential.sign_count == 1 and credential.last_used_at is not None


def test_the_2fa_step_offers_the_passkey_first_and_the_app_and_backup_codes_as_other_ways(
    with_passkey, password, enroll_totp
):
    enroll_totp(with_passkey.user)
    client = with_passkey.client
    sign_in(client, with_passkey.user, password)
    page = client.get("/auth/2fa/").content.decode()
    assert page.index("Use your passkey") < page.index("Verify")
    assert "Use a backup code" in page
    assert "needs JavaScript" in page  # shown until the script finds WebAuthn


def test_an_account_with_only_a_passkey_is_asked_for_it_after_the_password(with_passkey, password):
    client = with_passkey.client
    assert sign_in(client, with_passkey.user, password)["Location"] == "/auth/2fa/"
    page = client.get("/auth/2fa/").content.decode()
    assert "Use your passkey" in page
    assert "authenticator app" not in page


def test_a_passkey_alone_signs_in_passwordless_through_the_pipeline(with_passkey):
    client = with_passkey.client
    response = passwordless(client, with_passkey.authenticator)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert signed_in(client)
    event = AuditEvent.objects.filter(action="signin", outcome="success").latest("pk")
    assert event.metadata == {"method": "passkey"}


def test_a_passwordless_sign_in_from_a_new_browser_still_needs_the_emailed_code(
    with_passkey, mailoutbox
):
    stranger = browser("198.51.100.20")
    response = passwordless(stranger, with_passkey.authenticator)
    assert response.status_code == 302 and response["Location"] == "/auth/device/"
    assert not signed_in(stranger)


def test_a_passwordless_sign_in_keeps_a_safe_next_and_drops_another_site(with_passkey):
    client = with_passkey.client
    answer = with_passkey.authenticator.get(options(client, "/auth/passkey/options/"))
    response = client.post(
        "/auth/passkey/?next=https://evil.example/", {"credential": json.dumps(answer)}
    )
    assert response["Location"] == "/dashboard/"


def test_a_dismissed_prompt_at_the_2fa_step_counts_nothing_and_keeps_the_other_ways(
    with_passkey, password, enroll_totp
):
    enroll_totp(with_passkey.user)
    client = with_passkey.client
    sign_in(client, with_passkey.user, password)
    options(client, "/auth/2fa/passkey/options/")
    response = client.post("/auth/2fa/", {"method": "passkey", "error": "cancelled"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "closed or timed out" in page and "Use a backup code" in page
    assert failures("alice") == 0
    assert not AuditEvent.objects.filter(action="2fa_failed").exists()
    # The challenge is gone: an answer to it now is refused.
    assert "_passkey_ceremony" not in client.session


# --- What is refused ------------------------------------------------------------------


def _tampered(answer: dict) -> dict:
    signature = answer["response"]["signature"]
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    answer["response"]["signature"] = flipped
    return answer


REFUSALS = {
    "tampered": "invalid",
    "wrong_origin": "invalid",
    "wrong_rp_id": "invalid",
    "no_user_verification": "invalid",
    "replayed": "invalid",
    "counter_backwards": "counter",
    "other_users_credential": "other_user",
}


def _refused_answer(case: str, client, with_passkey, password) -> dict:
    """Start the 2FA step and make the answer ``case`` describes."""
    authenticator = with_passkey.authenticator
    if case == "replayed":
        # A good answer, used once to sign in, sent again at a later sign-in.
        sign_in(client, with_passkey.user, password)
        old = authenticator.get(options(client, "/auth/2fa/passkey/options/"))
        client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(old)})
        assert signed_in(client)
        client.post("/auth/logout/")
        sign_in(client, with_passkey.user, password)
        options(client, "/auth/2fa/passkey/options/")
        return old
    if case == "other_users_credential":
        bob_browser = browser("203.0.113.44")
        sign_in(bob_browser, User.objects.get(username="bob"), password)
        bobs = SoftAuthenticator(origin=SITE)
        assert add_passkey(bob_browser, password, bobs).status_code == 302
        sign_in(client, with_passkey.user, password)
        return bobs.get(options(client, "/auth/2fa/passkey/options/"))
    sign_in(client, with_passkey.user, password)
    challenge = options(client, "/auth/2fa/passkey/options/")
    if case == "counter_backwards":
        authenticator.get(challenge)  # used elsewhere: the panel has not seen these
        authenticator.sign_count = 5
        credential = WebAuthnCredential.objects.get(user=with_passkey.user)
        credential.sign_count = 5
        credential.save(update_fields=["sign_count"])
        return authenticator.get(challenge, sign_count=3)
    lie = {
        "tampered": {},
        "wrong_origin": {"origin": "https://evil.example"},
        "wrong_rp_id": {"rp_id": "evil.example"},
        "no_user_verification": {"flags": 0x01},
    }[case]
    answer = authenticator.get(challenge, **lie)
    return _tampered(answer) if case == "tampered" else answer


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_passkey_answer_at_the_2fa_step_is_refused_counted_and_audited(
    case, with_passkey, password, bob
):
    client = with_passkey.client
    answer = _refused_answer(case, client, with_passkey, password)
    before = failures("alice")
    response = client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(answer)})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not signed_in(client)
    assert failures("alice") == before + 1
    event = AuditEvent.objects.filter(action="2fa_failed").latest("pk")
    assert event.user == with_passkey.user
    assert event.metadata == {"method": "passkey", "reason": REFUSALS[case]}
    # The pending sign-in is still there: another way (or a new try) can finish it.
    assert client.get("/auth/2fa/").status_code == 200


def test_a_counter_that_goes_backwards_is_audited_as_a_possible_clone(with_passkey, password):
    client = with_passkey.client
    answer = _refused_answer("counter_backwards", client, with_passkey, password)
    response = client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(answer)})
    assert "may have been copied" in response.content.decode()
    event = AuditEvent.objects.get(action="passkey_counter_regressed")
    assert event.user == with_passkey.user and event.outcome == "failure"
    credential = WebAuthnCredential.objects.get(user=with_passkey.user)
    assert credential.sign_count == 5  # unchanged


def test_a_challenge_is_used_once_even_when_the_answer_was_refused(with_passkey, password):
    client = with_passkey.client
    sign_in(client, with_passkey.user, password)
    challenge = options(client, "/auth/2fa/passkey/options/")
    bad = with_passkey.authenticator.get(challenge, origin="https://evil.example")
    client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(bad)})
    assert failures("alice") == 1
    good = with_passkey.authenticator.get(challenge)
    response = client.post("/auth/2fa/", {"method": "passkey", "credential": json.dumps(good)})
    assert response.status_code == 400 and not signed_in(client)
    event = AuditEvent.objects.filter(action="2fa_failed").latest("pk")
    assert event.metadata["reason"] == "no_challenge"
    assert failures("alice") == 2  # the replayed challenge is counted too


def test_the_challenge_expires_with_the_pending_sign_in(with_passkey, password):
    client = with_passkey.client
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, with_passkey.user, password)
        answer = with_passkey.authenticator.get(options(client, "/auth/2fa/passkey/options/"))
        traveller.shift(6 * 60)
        response = client.post(
            "/auth/2fa/", {"method": "passkey", "credential": json.dumps(answer)}
        )
    assert response.status_code == 302 and response["Location"] == "/auth/login/"
    assert not signed_in(client)


@pytest.mark.parametrize(
    "credential", ["not json", "[]", "{}", '{"id": "x", "response": {}}', "x" * 70_000]
)
def test_a_malformed_answer_is_a_clear_400_never_a_500(with_passkey, password, credential):
    client = with_passkey.client
    sign_in(client, with_passkey.user, password)
    options(client, "/auth/2fa/passkey/options/")
    response = client.post("/auth/2fa/", {"method": "passkey", "credential": credential})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    anonymous = browser("203.0.113.60")
    options(anonymous, "/auth/passkey/options/")
    response = anonymous.post("/auth/passkey/", {"credential": credential})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


# --- Passwordless refusals ------------------------------------------------------------


def test_a_passwordless_answer_from_an_unregistered_authenticator_is_refused_and_audited(
    with_passkey,
):
    stranger = SoftAuthenticator(origin=SITE)
    stranger.user_handle = with_passkey.authenticator.user_handle
    client = browser("203.0.113.61")
    response = passwordless(client, stranger)
    assert response.status_code == 400 and not signed_in(client)
    event = AuditEvent.objects.get(action="passkey_failed")
    assert event.metadata == {"ceremony": "passwordless", "reason": "unknown_credential"}


@pytest.mark.parametrize(
    ("lie", "reason"),
    [
        ({"origin": "https://evil.example"}, "invalid"),
        ({"flags": 0x01}, "invalid"),  # user verification is required without a password
    ],
)
def test_a_bad_passwordless_answer_is_refused_counted_on_the_owner_and_audited(
    with_passkey, lie, reason
):
    client = browser("203.0.113.62")
    response = passwordless(client, with_passkey.authenticator, **lie)
    assert response.status_code == 400 and not signed_in(client)
    assert failures("alice") == 1
    event = AuditEvent.objects.get(action="passkey_failed")
    assert event.user == with_passkey.user
    assert event.metadata == {"ceremony": "passwordless", "reason": reason}


def test_a_tampered_passwordless_answer_is_refused_counted_on_the_owner_and_audited(
    with_passkey,
):
    client = browser("203.0.113.66")
    answer = _tampered(with_passkey.authenticator.get(options(client, SITE_OPTIONS)))
    response = client.post("/auth/passkey/", {"credential": json.dumps(answer)})
    assert response.status_code == 400 and not signed_in(client)
    assert 'role="alert"' in response.content.decode()
    assert failures("alice") == 1
    event = AuditEvent.objects.get(action="passkey_failed")
    assert event.user == with_passkey.user
    assert event.metadata == {"ceremony": "passwordless", "reason": "invalid"}


def test_a_passwordless_answer_whose_user_handle_is_not_the_owner_is_refused(with_passkey):
    with_passkey.authenticator.user_handle = b"someone else"
    client = browser("203.0.113.63")
    response = passwordless(client, with_passkey.authenticator)
    assert response.status_code == 400 and not signed_in(client)
    assert AuditEvent.objects.get(action="passkey_failed").metadata["reason"] == "user_handle"


def test_a_passwordless_counter_going_backwards_is_refused_and_audited(with_passkey):
    credential = WebAuthnCredential.objects.get(user=with_passkey.user)
    credential.sign_count = 9
    credential.save(update_fields=["sign_count"])
    client = browser("203.0.113.64")
    response = passwordless(client, with_passkey.authenticator, sign_count=4)
    assert response.status_code == 400 and not signed_in(client)
    assert failures("alice") == 1
    assert AuditEvent.objects.filter(action="passkey_counter_regressed").count() == 1


def test_a_locked_account_is_not_signed_in_by_its_passkey(with_passkey, settings):
    client = browser("203.0.113.65")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = passwordless(client, with_passkey.authenticator, origin="https://evil.example")
    assert response.status_code == 429
    response = passwordless(client, with_passkey.authenticator)
    assert response.status_code == 429 and not signed_in(client)


def test_a_replayed_passwordless_answer_is_refused(with_passkey):
    client = with_passkey.client
    answer = with_passkey.authenticator.get(options(client, "/auth/passkey/options/"))
    assert client.post("/auth/passkey/", {"credential": json.dumps(answer)}).status_code == 302
    client.post("/auth/logout/")
    again = client.post("/auth/passkey/", {"credential": json.dumps(answer)})
    assert again.status_code == 400 and not signed_in(client)
    # No challenge is waiting: nothing names an account, the address's counter counts it.
    assert unknown_passkey_failures("203.0.113.9") == 1 and failures("alice") == 0
    options(client, "/auth/passkey/options/")  # a new challenge does not make it valid
    again = client.post("/auth/passkey/", {"credential": json.dumps(answer)})
    assert again.status_code == 400 and not signed_in(client)
    assert failures("alice") == 1  # now checked against alice's passkey: hers
    reasons = list(
        AuditEvent.objects.filter(action__in=["passkey_failed", "passkey_counter_regressed"])
        .order_by("pk")
        .values_list("metadata__reason", flat=True)
    )
    assert reasons == ["no_challenge", "invalid"]


# --- Passwordless answers that name no account: the address's own counter --------------


def unknown_passkey_failures(ip: str) -> int:
    row = Lockout.objects.filter(ip=ip, username=lockout.UNKNOWN_PASSKEY).first()
    return row.failures if row else 0


def test_unknown_passkeys_from_one_address_lock_that_address_out_of_passwordless_sign_in(
    with_passkey, password, settings
):
    client = browser("203.0.113.70")
    # Another browser at that address got a challenge before the lock.
    neighbour = browser("203.0.113.70")
    answer = with_passkey.authenticator.get(options(neighbour, SITE_OPTIONS))
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        response = passwordless(client, SoftAuthenticator(origin=SITE))
        assert response.status_code == 400 and not signed_in(client)
        assert unknown_passkey_failures("203.0.113.70") == attempt
    response = passwordless(client, SoftAuthenticator(origin=SITE))
    assert response.status_code == 429 and "Retry-After" in response
    lock = AuditEvent.objects.get(action="lockout")
    assert lock.user is None and lock.metadata["locked_ip"] == "203.0.113.70"
    assert "login" not in lock.metadata  # only the keyed hash of a name that is no account
    # While it is locked, that address gets no challenge and no answer is checked, not
    # even a registered passkey's (nothing is counted on its owner either).
    refused = client.post("/auth/passkey/options/")
    assert refused.status_code == 429 and "Too many failed attempts" in refused.json()["error"]
    response = neighbour.post("/auth/passkey/", {"credential": json.dumps(answer)})
    assert response.status_code == 429 and not signed_in(neighbour)
    assert failures("alice") == 0
    assert not AuditEvent.objects.filter(user=with_passkey.user, outcome="failure").exists()
    # No account is locked: the password works from there, the passkey from elsewhere.
    assert sign_in(browser("203.0.113.70"), with_passkey.user, password).status_code == 302
    elsewhere = with_passkey.client
    assert passwordless(elsewhere, with_passkey.authenticator)["Location"] == "/dashboard/"


def test_the_lock_on_unknown_passkeys_ends_and_the_address_can_try_again(with_passkey, settings):
    client = with_passkey.client
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = passwordless(client, SoftAuthenticator(origin=SITE))
        assert response.status_code == 429
        traveller.shift(61)
        assert passwordless(client, with_passkey.authenticator)["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "answer",
    ["no_challenge", "malformed", "unknown_credential"],
)
def test_a_passwordless_refusal_that_names_no_account_counts_on_the_address(with_passkey, answer):
    client = browser("203.0.113.71")
    if answer == "no_challenge":
        # An answer to a challenge this session never got (or already used).
        stale = with_passkey.authenticator.get(options(browser("203.0.113.72"), SITE_OPTIONS))
        response = client.post("/auth/passkey/", {"credential": json.dumps(stale)})
    elif answer == "malformed":
        options(client, SITE_OPTIONS)
        response = client.post("/auth/passkey/", {"credential": '{"id": "x", "response": {}}'})
    else:
        response = passwordless(client, SoftAuthenticator(origin=SITE))
    assert response.status_code == 400 and not signed_in(client)
    assert unknown_passkey_failures("203.0.113.71") == 1
    assert failures("alice") == 0
    event = AuditEvent.objects.get(action="passkey_failed")
    assert event.user is None and event.metadata["reason"] == answer


def test_a_registered_passkey_counts_on_its_owner_not_on_the_address(with_passkey):
    client = browser("203.0.113.73")
    response = passwordless(client, with_passkey.authenticator, origin="https://evil.example")
    assert response.status_code == 400
    assert failures("alice") == 1
    # Its slot on the address's counter was given back, as after a good answer (this new
    # browser then meets the emailed new-device code, as any sign-in would).
    assert passwordless(client, with_passkey.authenticator)["Location"] == "/auth/device/"
    row = Lockout.objects.get(ip="203.0.113.73", username=lockout.UNKNOWN_PASSKEY)
    assert (row.attempts, row.failures) == (0, 0)


def test_the_failed_attempts_page_counts_refused_passwordless_answers_by_address(with_passkey):
    client = browser("203.0.113.74")
    passwordless(client, SoftAuthenticator(origin=SITE))
    passwordless(client, with_passkey.authenticator, origin="https://evil.example")
    since = timezone.now() - timedelta(hours=1)
    assert {"ip": "203.0.113.74", "failures": 2} in [
        {"ip": row["ip"], "failures": row["failures"]} for row in failures_by_ip(since)
    ]


# --- The browser's autofill of passkeys (conditional mediation): the server's side -------


def test_the_sign_in_page_asks_the_browser_to_offer_passkeys_in_the_username_field(client):
    page = client.get("/auth/login/").content.decode()
    assert 'autocomplete="username webauthn"' in page
    form = re.search(r'<form [^>]*data-passkey-form="signin"[^>]*>', page).group(0)
    assert 'data-autofill="#id_username"' in form
    assert 'data-challenge-seconds="300"' in form
    # The only script is the static file (the CSP allows no inline script); without
    # it the password form is the same form.
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/panel/js/passkeys.js" defer>'
    ]
    refused = client.post("/auth/login/", {"username": "nobody", "password": "wrong"})
    assert 'autocomplete="username webauthn"' in refused.content.decode()


def test_without_passkeys_the_username_field_offers_none(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    page = client.get("/auth/login/").content.decode()
    assert 'autocomplete="username"' in page and "webauthn" not in page
    assert "<script" not in page


def test_an_autofill_challenge_is_refused_after_five_minutes(with_passkey):
    client = browser("203.0.113.75")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answer = with_passkey.authenticator.get(options(client, SITE_OPTIONS))
        traveller.shift(5 * 60 + 1)
        response = client.post("/auth/passkey/", {"credential": json.dumps(answer)})
    assert response.status_code == 400 and not signed_in(client)
    assert "expired" in response.content.decode()
    assert AuditEvent.objects.get(action="passkey_failed").metadata["reason"] == "no_challenge"
    assert unknown_passkey_failures("203.0.113.75") == 1


def test_a_refreshed_autofill_challenge_replaces_the_waiting_one(with_passkey):
    """The page asks again before five minutes: the first challenge is then worth
    nothing, and the new one signs in."""
    client = with_passkey.client
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = options(client, SITE_OPTIONS)
        traveller.shift(4 * 60 + 30)
        second = options(client, SITE_OPTIONS)
        assert second["challenge"] != first["challenge"]
        traveller.shift(4 * 60)
        answer = with_passkey.authenticator.get(second)
        response = client.post("/auth/passkey/", {"credential": json.dumps(answer)})
        assert response.status_code == 302 and response["Location"] == "/dashboard/"
        client.post("/auth/logout/")
        stale = with_passkey.authenticator.get(first)
        options(client, SITE_OPTIONS)
        response = client.post("/auth/passkey/", {"credential": json.dumps(stale)})
    assert response.status_code == 400 and not signed_in(client)
