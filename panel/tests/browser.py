"""What the browser tests share about the sign-in page.

The sign-in page may hold its submit for a moment: a password posted while the
passkey-autofill challenge is on its way waits for it (``static/panel/js/passkeys.js``),
so the form's navigation can start after the click has returned. A test that goes on to
another page at once would have its ``goto`` aborted by that late navigation
(``net::ERR_ABORTED``). ``press_sign_in`` clicks the button as a person does and returns
once the page the form posted to has loaded, whatever it is (the dashboard, the 2FA step,
or the sign-in page again with an error).
"""

from __future__ import annotations

from playwright.sync_api import Page


def press_sign_in(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in(page: Page, base: str, login: str, password: str) -> None:
    """Open the sign-in page, type the login and the password, and press Sign in."""
    page.goto(base + "/auth/login/")
    page.get_by_label("Email or username").fill(login)
    page.get_by_label("Password").fill(password)
    press_sign_in(page)
