"""A person enrolls in 2FA with a real browser, reading the QR code off the screen, and
signs in with a TOTP code and with a backup code (which then works no more).

pyotp plays the authenticator app: an implementation independent of django-otp's.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pyotp
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from panel.tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_out(page: Page) -> None:
    page.locator("details.usermenu > summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def read_qr(page: Page) -> str:
    png = page.locator("#totp-qr").screenshot()
    # A QR code, as an authenticator app looks for: zxing's other formats can find a
    # spurious short linear barcode in the modules (it read "8989" once in CI).
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)).convert("RGB"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    # zxing may report one code twice (two finder-pattern passes): one text is what counts.
    texts = {result.text for result in results}
    assert len(texts) == 1, "the QR code on the page could not be read"
    return texts.pop()


def test_a_person_enrolls_by_scanning_and_signs_in_with_a_code_and_a_backup_code(
    live_server, page: Page, user_factory, password, settings
):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    user = user_factory("dana", email="dana@example.com", full_name="Dana Reyes")
    base = live_server.url

    sign_in(page, base, "dana", password)
    expect(page).to_have_url(base + "/dashboard/")

    # Profile > Settings > Security > Two-Factor Authentication.
    page.locator("details.usermenu > summary").click()
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page).to_have_url(base + "/settings/security/")
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    page.get_by_role("link", name="Enable 2FA").click()
    page.get_by_label("Current password").fill(password)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    shot(page, "2fa_setup")
    uri = read_qr(page)
    assert uri.startswith("otpauth://totp/Panel:dana%40example.com?secret=")
    authenticator = pyotp.parse_uri(uri)
    # The key typed by hand is the same secret.
    manual = page.locator("#manual-key").inner_text().replace(" ", "")
    assert manual == authenticator.secret

    page.get_by_label("Authentication code").fill(authenticator.now())
    page.get_by_role("button", name="Enable").click()

    expect(page.get_by_role("heading", name="Save your backup codes")).to_be_visible()
    codes = [c.strip() for c in page.locator("#backup-codes li").all_inner_texts()]
    assert len(codes) == 10
    expect(page.get_by_role("button", name="Copy all codes")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    downloaded = Path(download_info.value.path()).read_text()
    assert all(code in downloaded for code in codes)
    shot(page, "2fa_backup_codes")

    page.get_by_role("link", name="I have saved my codes").click()
    expect(page.get_by_text("10 of 10 left")).to_be_visible()
    shot(page, "2fa_security_tab")
    sign_out(page)

    # Password, then a TOTP code. The enrollment already used the current step, so the
    # app's next code (accepted: one step of tolerance) stands in for waiting 30 s.
    sign_in(page, base, "dana", password)
    expect(page).to_have_url(base + "/auth/2fa/")
    shot(page, "2fa_signin")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "2fa_signin_390")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Authentication code").fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(base + "/dashboard/")
    sign_out(page)

    # Password, then a backup code.
    sign_in(page, base, "dana", password)
    page.get_by_role("link", name="Use a backup code").click()
    shot(page, "2fa_signin_backup")
    page.get_by_label("Backup code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(base + "/dashboard/")
    sign_out(page)

    # The same backup code again: refused.
    sign_in(page, base, "dana", password)
    page.get_by_role("link", name="Use a backup code").click()
    page.get_by_label("Backup code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That backup code didn't work")).to_be_visible()
    expect(page.get_by_label("Backup code")).to_have_value("")
    expect(page).to_have_url(base + "/auth/2fa/?method=backup")
    shot(page, "2fa_signin_refused")

    # Five more wrong codes make six failures: the pair is locked, the sign-in is gone.
    for _ in range(5):
        page.get_by_label("Backup code").fill("zzzz-zzzz-zzzz-zzzz")
        page.get_by_role("button", name="Verify").click()
        if page.get_by_role("heading", name="Too many attempts").is_visible():
            break
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text("Please wait 60 seconds")).to_be_visible()
    shot(page, "2fa_locked")
    user.refresh_from_db()
