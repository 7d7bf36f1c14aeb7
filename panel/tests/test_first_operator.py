"""The README's Operators walk-through, run as written: `createsuperuser`, sign in through
the panel, reach the admin, turn on two-factor authentication, sign in again with it."""

from __future__ import annotations

import base64
import re
from html import unescape
from pathlib import Path

import pyotp
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from security.models import EncryptedTOTPDevice

BASE_DIR = Path(__file__).resolve().parent.parent.parent
README = (BASE_DIR / "README.md").read_text()

PASSPHRASE = "an operator's long passphrase 7"

# The labels the README's walk-through tells the operator to look for, in page order.
WALK_LABELS = ["Settings", "Security", "Enable 2FA", "Continue", "Enable", "Administration"]


@pytest.fixture(autouse=True)
def _fresh(db, settings, monkeypatch):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    cache.clear()
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "operator")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSPHRASE)
    yield
    cache.clear()


def create_operator() -> User:
    call_command("createsuperuser", "--noinput", verbosity=0)
    return User.objects.get(username="operator")


def sign_in(client: Client, login: str = "operator"):
    return client.post("/auth/login/", {"username": login, "password": PASSPHRASE})


def test_an_operator_created_superuser_has_a_verified_address():
    operator = create_operator()
    assert operator.is_superuser and operator.email_verified


def test_creating_a_superuser_is_audited_as_an_operator_action():
    operator = create_operator()
    event = AuditEvent.objects.get(action="user_created", user=operator)
    assert event.actor is None  # no signed-in person: the operator at the console
    assert event.metadata == {"source": "operator", "superuser": True, "email_verified": True}


def test_an_address_given_explicitly_stays_unverified_for_an_ordinary_user():
    user = User.objects.create_user("someone", "someone@example.com", PASSPHRASE)
    assert not user.email_verified


def test_the_first_superuser_signs_in_through_the_panel_and_reaches_the_admin():
    create_operator()
    client = Client()
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    page = client.get("/dashboard/").content.decode()
    assert "Administration" in page
    assert client.get("/admin/").status_code == 200


def test_the_readme_walks_from_createsuperuser_to_a_signed_in_admin_with_2fa():
    operators = README.split("## Operators", 1)[1].split("\n## ", 1)[0]
    for step in ["createsuperuser", "/auth/login/", "/admin/", *WALK_LABELS]:
        assert step in operators, f"README's Operators section does not mention {step!r}"
    assert "resend verification" not in operators.lower()  # nothing to work around


def test_the_walk_through_works_with_the_labels_the_readme_names():
    """Every click the README describes, on the real pages, with the real labels."""
    operator = create_operator()
    client = Client()
    assert sign_in(client)["Location"] == "/dashboard/"
    seen = client.get("/dashboard/").content.decode()
    seen += client.get("/settings/", follow=True).content.decode()
    seen += client.get("/settings/security/").content.decode()
    seen += client.get("/settings/security/2fa/enable/").content.decode()
    response = client.post("/settings/security/2fa/enable/", {"password": PASSPHRASE})
    assert response["Location"] == "/settings/security/2fa/setup/"
    setup = client.get("/settings/security/2fa/setup/").content.decode()
    seen += setup
    key = re.search(r'id="manual-key"[^>]*>([^<]+)<', setup).group(1)
    key = unescape(key).replace(" ", "")
    assert base64.b32decode(key + "=" * (-len(key) % 8))
    authenticator = pyotp.TOTP(key)
    response = client.post("/settings/security/2fa/setup/", {"code": authenticator.now()})
    assert response.status_code == 200 and "Save your backup codes" in response.content.decode()
    for label in WALK_LABELS:
        assert label in seen, f"the pages never show {label!r}"

    # Sign out, then in again: password, then the authenticator's code, then the admin.
    client.post("/auth/logout/")
    assert sign_in(client)["Location"] == "/auth/2fa/"
    device = EncryptedTOTPDevice.objects.get(user=operator)
    # The code of the next time step (the one used at setup cannot be replayed).
    code = authenticator.at((device.last_t + 1) * 30)
    response = client.post("/auth/2fa/", {"method": "totp", "code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
