"""The two-factor pages through the client: enrollment, the sign-in step, the pending
state, disabling, regenerating and the Security tab."""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import time_machine
import zxingcpp
from django.urls import reverse
from PIL import Image

from audit.models import AuditEvent
from security.models import BackupCodeSet, EncryptedTOTPDevice
from security.tests.helpers import (
    TWO_FACTOR_URL,
    emails,
    enroll,
    race,
    sign_in_password,
    start_two_factor,
    submit_code,
)
from security.twofactor import backup_codes

pytestmark = pytest.mark.django_db

ENABLE = "/settings/security/2fa/enable/"
SETUP = "/settings/security/2fa/setup/"
REGENERATE = "/settings/security/2fa/backup-codes/"
DISABLE = "/settings/security/2fa/disable/"
SECURITY_TAB = "/settings/security/"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def qr_uri(response) -> str:
    html = response.content.decode()
    match = re.search(r'<img id="totp-qr" src="data:image/png;base64,([^"]+)"', html)
    assert match, "no inline QR code"
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    assert image.size == (256, 256)
    [barcode] = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return barcode.text


def start_enrollment(client, password: str):
    response = client.post(ENABLE, {"password": password})
    assert response.status_code == 302
    assert response["Location"] == SETUP
    return client.get(SETUP)


# --- Enrollment -----------------------------------------------------------------------------


def test_enabling_asks_for_the_current_password_first(alice_client, alice):
    page = alice_client.get(ENABLE)
    assert page.status_code == 200
    assert 'type="password"' in page.content.decode()
    wrong = alice_client.post(ENABLE, {"password": "not my password at all"})
    assert wrong.status_code == 400
    assert "That password is not correct." in wrong.content.decode()
    assert not EncryptedTOTPDevice.objects.filter(user=alice).exists()


def test_the_setup_page_needs_the_password_step(alice_client, alice):
    response = alice_client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"] == ENABLE


def test_the_setup_page_shows_a_scannable_qr_code_the_key_and_the_uri(
    alice_client, alice, password
):
    page = start_enrollment(alice_client, password)
    assert page.status_code == 200
    uri = qr_uri(page)
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert unquote(parts.path) == "/Panel:alice@example.com"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Panel"]
    assert query["algorithm"] == ["SHA1"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    secret = query["secret"][0]
    assert "=" not in secret
    assert len(base64.b32decode(secret)) == 20
    html = page.content.decode()
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in html
    assert uri.replace("&", "&amp;") in html
    assert page["Cache-Control"] == "no-store"
    # Nothing secret in the session (the cookie's server-side data).
    assert secret not in str(dict(alice_client.session.items()))
    device = EncryptedTOTPDevice.objects.get(user=alice)
    assert device.confirmed is False
    assert secret not in device.encrypted_key


def test_the_qr_code_has_a_white_quiet_zone(alice_client, password):
    page = start_enrollment(alice_client, password)
    png = re.search(r'src="data:image/png;base64,([^"]+)"', page.content.decode()).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(png))).convert("L")
    width, height = image.size
    border = [image.getpixel((x, y)) for x in range(width) for y in (0, 1, 2, 3, 4, 5, 6, 7)]
    assert set(border) == {255}
    assert image.getpixel((width // 2, height // 2)) in {0, 255}


def test_starting_again_overwrites_the_pending_secret(alice_client, alice, password):
    first = qr_uri(start_enrollment(alice_client, password))
    second = qr_uri(start_enrollment(alice_client, password))
    assert first != second
    assert EncryptedTOTPDevice.objects.filter(user=alice).count() == 1


def test_a_wrong_code_leaves_2fa_off(alice_client, alice, password):
    start_enrollment(alice_client, password)
    response = alice_client.post(SETUP, {"code": "000000"})
    assert response.status_code == 400
    assert "didn't work" in page_text(response)
    assert not EncryptedTOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert not BackupCodeSet.objects.filter(user=alice).exists()


def test_a_valid_code_turns_2fa_on_and_shows_the_backup_codes_once(alice_client, alice, password):
    uri = qr_uri(start_enrollment(alice_client, password))
    code = pyotp.parse_uri(uri).now()
    response = alice_client.post(SETUP, {"code": code})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    codes = re.findall(r"<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>", html)
    assert len(codes) == 10
    assert "Copy all codes" in html
    assert 'download="panel-backup-codes.txt"' in html
    assert "data:text/plain;charset=utf-8," in html
    device = EncryptedTOTPDevice.objects.get(user=alice)
    assert device.confirmed
    assert backup_codes.remaining(alice) == 10
    assert AuditEvent.objects.filter(action="2fa_enabled", user=alice).exists()
    assert emails("2fa_enabled")[0].recipient == alice.email
    # Shown once: the setup page now sends back to the Security tab.
    again = alice_client.get(SETUP)
    assert again.status_code == 302
    assert again["Location"] == SECURITY_TAB
    tab = alice_client.get(SECURITY_TAB).content.decode()
    assert not any(c in tab for c in codes)
    assert "10 of 10 left" in tab


def test_the_download_link_holds_all_codes_as_text(alice_client, password):
    uri = qr_uri(start_enrollment(alice_client, password))
    html = alice_client.post(SETUP, {"code": pyotp.parse_uri(uri).now()}).content.decode()
    href = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)"', html).group(1)
    text = unquote(href)
    codes = re.findall(r"<code>([^<]+)</code>", html)
    assert all(code in text.splitlines() for code in codes)


# --- The sign-in step ------------------------------------------------------------------------


@pytest.fixture
def enrolled(alice):
    return enroll(alice)


def test_a_password_alone_does_not_sign_in_a_2fa_user(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    assert "_auth_user_id" not in client.session
    page = client.get(TWO_FACTOR_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Authentication code" in html
    assert "Use a backup code" in html


@pytest.mark.parametrize("path", ["/dashboard/", "/settings/security/", "/admin/", "/admin/auth/"])
def test_every_page_redirects_to_the_2fa_step_while_pending(client, enrolled, password, path):
    start_two_factor(client, enrolled.user, password)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == TWO_FACTOR_URL


def test_the_admin_login_page_is_not_a_way_around_2fa(client, enrolled, password):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/?next=")
    # Posting a password to it signs nobody in.
    client.post("/admin/login/", {"username": "alice", "password": password})
    assert "_auth_user_id" not in client.session


def test_a_totp_code_completes_sign_in_and_rotates_the_session_key(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    pending_key = client.session.session_key
    response = submit_code(client, enrolled.code())
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.session.session_key != pending_key
    assert client.session["_auth_user_id"] == str(enrolled.user.pk)
    assert client.get("/dashboard/").status_code == 200
    event = AuditEvent.objects.filter(action="signin", outcome="success").get()
    assert event.metadata == {"method": "totp"}


def test_the_next_url_survives_the_2fa_step(client, enrolled, password):
    client.post(
        "/auth/login/?next=/settings/security/", {"username": "alice", "password": password}
    )
    response = submit_code(client, enrolled.code())
    assert response["Location"] == "/settings/security/"


def test_a_backup_code_completes_sign_in_once(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    page = client.get(TWO_FACTOR_URL + "?method=backup")
    assert "Backup code" in page.content.decode()
    response = submit_code(client, enrolled.codes[0], backup=True)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="signin", metadata__method="backup_code").exists()
    client.post("/auth/logout/")
    start_two_factor(client, enrolled.user, password)
    again = submit_code(client, enrolled.codes[0], backup=True)
    assert again.status_code == 400
    assert "didn't work" in page_text(again)
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_is_refused_counted_and_audited(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    response = submit_code(client, "000000")
    assert response.status_code == 400
    assert "didn't work" in page_text(response)
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="2fa_failed")
    assert event.metadata == {"method": "totp", "reason": "invalid"}
    assert event.user == enrolled.user
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1


def test_the_pending_state_expires_after_five_minutes(client, enrolled, password):
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        start_two_factor(client, enrolled.user, password)
        traveller.shift(301)
        response = submit_code(client, enrolled.code())
        assert response.status_code == 302
        assert response["Location"] == "/auth/login/"
        assert "_auth_user_id" not in client.session
        assert client.get("/dashboard/")["Location"].startswith("/auth/login/")


def test_signing_out_clears_the_pending_state(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    client.post("/auth/logout/")
    response = client.get(TWO_FACTOR_URL)
    assert response["Location"] == "/auth/login/"


def test_the_2fa_page_without_a_pending_sign_in_goes_to_sign_in(client):
    response = client.get(TWO_FACTOR_URL)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"


def test_a_user_without_2fa_signs_in_with_the_password(client, bob, password):
    response = sign_in_password(client, "bob", password)
    assert response["Location"] == reverse("dashboard")
    assert AuditEvent.objects.filter(action="signin", metadata__method="password").exists()


def test_the_2fa_page_works_on_a_narrow_screen_without_javascript(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    html = client.get(TWO_FACTOR_URL).content.decode()
    # The backup code option is a plain link, the form a plain POST.
    assert 'href="/auth/2fa/?method=backup"' in html
    assert '<label for="id_code">Authentication code</label>' in html
    assert 'autocomplete="one-time-code"' in html


# --- Unreadable secret ---------------------------------------------------------------------


def test_an_unreadable_secret_is_explained_and_logged_never_a_500(
    client, enrolled, password, settings, caplog
):
    settings.ENCRYPTION_KEYS = ["ZGlmZmVyZW50LWtleS1ub3QtdGhlLW9yaWdpbmFsLTE="]
    caplog.set_level(logging.ERROR, logger="panel.security")
    start_two_factor(client, enrolled.user, password)
    page = client.get(TWO_FACTOR_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your two-factor secret could not be read; contact support" in html
    assert "Backup code" in html
    assert f"user id={enrolled.user.pk}" in caplog.text
    assert enrolled.device.encrypted_key not in caplog.text
    # A TOTP code is not counted as a failure; a backup code still signs in.
    response = submit_code(client, enrolled.codes[0], backup=True)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    tab = client.get(SECURITY_TAB)
    assert tab.status_code == 200
    assert "Your two-factor secret could not be read; contact support" in tab.content.decode()


# --- Managing 2FA --------------------------------------------------------------------------


@pytest.fixture
def enrolled_client(client, enrolled):
    client.force_login(enrolled.user)
    return client


def test_the_security_tab_shows_how_many_backup_codes_remain(enrolled_client, enrolled):
    backup_codes.use_backup_code(user=enrolled.user, code=enrolled.codes[0])
    html = enrolled_client.get(SECURITY_TAB).content.decode()
    assert "9 of 10 left" in html
    assert "Regenerate backup codes" in html
    assert "Disable 2FA" in html


def test_the_security_tab_warns_when_few_codes_remain(enrolled_client, enrolled):
    for code in enrolled.codes[:8]:
        backup_codes.use_backup_code(user=enrolled.user, code=code)
    html = enrolled_client.get(SECURITY_TAB).content.decode()
    assert "2 of 10 left" in html
    assert "Running low" in html


def test_the_security_tab_offers_enable_when_2fa_is_off(alice_client):
    html = alice_client.get(SECURITY_TAB).content.decode()
    assert "Two-Factor Authentication" in html
    assert "Enable 2FA" in html


def test_regenerating_from_the_page_needs_a_totp_code(enrolled_client, enrolled):
    refused = enrolled_client.post(REGENERATE, {"code": enrolled.codes[0]})
    assert refused.status_code == 400
    assert "6-digit" in refused.content.decode()
    response = enrolled_client.post(REGENERATE, {"code": enrolled.code()})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = re.findall(r"<code>([^<]+)</code>", response.content.decode())
    assert len(new) == 10
    assert not set(new) & set(enrolled.codes)


def test_disabling_with_a_totp_code_wipes_the_secret_and_codes(enrolled_client, enrolled):
    response = enrolled_client.post(DISABLE, {"code": enrolled.code()})
    assert response.status_code == 302
    assert response["Location"] == SECURITY_TAB
    assert not EncryptedTOTPDevice.objects.filter(user=enrolled.user).exists()
    assert not BackupCodeSet.objects.filter(user=enrolled.user).exists()
    event = AuditEvent.objects.get(action="2fa_disabled")
    assert event.metadata == {"method": "totp"}
    assert emails("2fa_disabled")[0].recipient == enrolled.user.email


def test_disabling_with_a_backup_code_works_too(enrolled_client, enrolled):
    response = enrolled_client.post(DISABLE, {"code": enrolled.codes[3]})
    assert response.status_code == 302
    assert not EncryptedTOTPDevice.objects.filter(user=enrolled.user).exists()
    assert AuditEvent.objects.get(action="2fa_disabled").metadata == {"method": "backup_code"}


def test_disabling_with_a_wrong_code_changes_nothing(enrolled_client, enrolled):
    response = enrolled_client.post(DISABLE, {"code": "123456"})
    assert response.status_code == 400
    assert "didn't work" in page_text(response)
    assert EncryptedTOTPDevice.objects.filter(user=enrolled.user, confirmed=True).exists()
    assert not AuditEvent.objects.filter(action="2fa_disabled").exists()


def test_no_code_or_secret_reaches_the_audit_trail(client, enrolled, password):
    start_two_factor(client, enrolled.user, password)
    submit_code(client, "000000")
    submit_code(client, enrolled.codes[0], backup=True)
    text = str(list(AuditEvent.objects.values_list("metadata", flat=True)))
    assert enrolled.codes[0] not in text
    assert "000000" not in text
    assert base64.b32encode(enrolled.key).decode().rstrip("=") not in text


# --- Races through real requests (PostgreSQL) -------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backup", [False, True])
def test_two_parallel_sign_ins_with_one_code_let_exactly_one_in(user_factory, password, backup):
    from django.test import Client

    enrolled = enroll(user_factory("racer"))
    code = enrolled.codes[0] if backup else enrolled.code()
    clients = [Client(), Client()]
    for c in clients:
        start_two_factor(c, enrolled.user, password)

    def submit(c) -> str:
        response = submit_code(c, code, backup=backup)
        return response.get("Location", str(response.status_code))

    statuses = race(submit, [(c,) for c in clients])
    assert sorted(statuses) == ["/dashboard/", "400"]
    signed_in = [c.session.get("_auth_user_id") for c in clients]
    assert signed_in.count(str(enrolled.user.pk)) == 1
