"""A password change keeps the browser it was made from trusted and forgets the others;
a password reset (from an emailed link, nobody signed in) still forgets every browser."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accounts.services import password_reset_link
from audit.models import AuditEvent
from security.devices import services as devices
from security.models import TrustedDevice
from security.tests.helpers import (
    SAFARI_IPHONE,
    browser,
    code_from,
    path_of,
    sign_in,
    trusted_browser,
)

pytestmark = pytest.mark.usefixtures("emails_sent_at_once")

DEVICE_URL = "/auth/device/"
NEW_PASSWORD = "a different long passphrase 77"


@pytest.fixture(autouse=True)
def _no_holds(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = True


@pytest.fixture
def laptop(alice, password):
    """Browser A: Alice's first browser, trusted by her first sign-in."""
    return trusted_browser(alice, password)


@pytest.fixture
def phone(alice, password, laptop, mailoutbox):
    """Browser B: trusted too, with the emailed code."""
    client = browser("198.51.100.20", SAFARI_IPHONE)
    assert sign_in(client, alice, password)["Location"] == DEVICE_URL
    assert client.post(DEVICE_URL, {"code": code_from(mailoutbox)})["Location"] == "/dashboard/"
    assert TrustedDevice.objects.filter(user=alice).count() == 2
    return client


def _token(client) -> str | None:
    """The device token in ``client``'s cookie, read as the panel reads it."""
    return devices.current_token(
        SimpleNamespace(COOKIES={name: c.value for name, c in client.cookies.items()})
    )


def change_password(client, old: str):
    return client.post(
        "/settings/security/password/",
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_the_browser_that_changed_the_password_signs_in_again_without_a_code(
    alice, password, laptop, phone, mailoutbox
):
    response = change_password(laptop, password)
    assert response.status_code == 302, response.content.decode()[:2000]

    [kept] = TrustedDevice.objects.filter(user=alice)
    assert devices.trusted_device(alice, _token(laptop)) == kept

    laptop.post("/auth/logout/")
    codes_before = len([m for m in mailoutbox if "enter this code" in m.body])
    assert sign_in(laptop, alice, NEW_PASSWORD)["Location"] == "/dashboard/"
    assert len([m for m in mailoutbox if "enter this code" in m.body]) == codes_before


def test_every_other_trusted_browser_needs_an_emailed_code_after_a_change(
    alice, password, laptop, phone
):
    change_password(laptop, password)
    assert sign_in(phone, alice, NEW_PASSWORD)["Location"] == DEVICE_URL


def test_the_page_says_this_browser_stays_trusted_and_the_others_need_a_code(
    alice, password, laptop, phone
):
    response = change_password(laptop, password)
    page = laptop.get(response["Location"]).content.decode()
    assert "This browser stays trusted" in page
    assert "other browsers will need a code we email you" in page


def test_the_password_changed_email_says_which_browser_stays_trusted(
    alice, password, laptop, phone, mailoutbox
):
    change_password(laptop, password)
    [email] = [m for m in mailoutbox if "password was changed" in m.subject.lower()]
    assert "The browser you changed it from stays trusted" in email.body
    assert "every other browser will need a code we email you" in email.body
    html = email.alternatives[0][0]
    assert "The browser you changed it from stays trusted" in html


def test_the_audit_trail_records_how_many_browsers_were_forgotten_and_kept(
    alice, password, laptop, phone
):
    change_password(laptop, password)
    event = AuditEvent.objects.get(action="device_forgotten", user=alice)
    assert event.metadata == {"count": 1, "kept": 1, "reason": "password_change"}
    changed = AuditEvent.objects.get(action="password_changed", user=alice, outcome="success")
    assert changed.metadata["devices_forgotten"] == 1
    assert changed.metadata["device_kept"] is True


def test_a_change_from_a_browser_no_longer_trusted_keeps_none(alice, password, laptop, phone):
    TrustedDevice.objects.filter(user=alice, name__contains="Linux").delete()  # forgotten
    assert devices.trusted_device(alice, _token(laptop)) is None
    response = change_password(laptop, password)
    assert not TrustedDevice.objects.filter(user=alice).exists()
    event = AuditEvent.objects.get(action="device_forgotten", user=alice)
    assert event.metadata == {"count": 1, "kept": 0, "reason": "password_change"}
    page = laptop.get(response["Location"]).content.decode()
    assert "Every browser will need a code we email you" in page


def test_a_password_reset_still_forgets_every_browser_even_the_one_resetting(
    alice, password, laptop, phone, mailoutbox
):
    laptop.post("/auth/logout/")
    alice.refresh_from_db()  # the link's token covers the last sign-in
    first = laptop.get(path_of(password_reset_link(alice)))
    assert first.status_code == 302
    form_url = first["Location"]
    response = laptop.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert not TrustedDevice.objects.filter(user=alice).exists()
    assert sign_in(laptop, alice, NEW_PASSWORD)["Location"] == DEVICE_URL
    [email] = [m for m in mailoutbox if "password was changed" in m.subject.lower()]
    assert "stays trusted" not in email.body
    assert "every browser will need a code we email you" in email.body


def test_the_trusted_devices_card_says_a_change_keeps_this_browser(alice, password, laptop):
    page = laptop.get("/settings/security/").content.decode()
    assert "forgets all of them but the browser you change it from" in page
