"""The manual block list: a blocked address or network is refused at every sign-in path
before any password is hashed; blocks are added and lifted by superusers, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.tokens import default_token_generator
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.models import AuditEvent
from security.blocking import services
from security.blocking.models import BlockedNetwork
from security.lockout.models import Lockout
from security.tests.helpers import (
    FIREFOX_WINDOWS,
    browser,
    enroll,
    sign_in,
    start_two_factor,
    submit_code,
    trusted_browser,
)

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


@pytest.fixture
def hashes(monkeypatch):
    """Counts every password hash computed or checked (the tests' MD5 hasher)."""
    calls = []
    encode, verify = MD5PasswordHasher.encode, MD5PasswordHasher.verify

    def counted_encode(self, *args, **kwargs):
        calls.append("encode")
        return encode(self, *args, **kwargs)

    def counted_verify(self, *args, **kwargs):
        calls.append("verify")
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counted_encode)
    monkeypatch.setattr(MD5PasswordHasher, "verify", counted_verify)
    return calls


def block(network: str, **kwargs) -> BlockedNetwork:
    return services.block(network=network, reason="test", actor=None, **kwargs)


def is_blocked_page(response) -> bool:
    return response.status_code == 403 and "Access from your network is blocked" in (
        response.content.decode()
    )


def test_a_blocked_address_cannot_try_a_password_and_costs_no_hash(alice, password, hashes):
    block(IP)
    response = sign_in(browser(IP), alice, password)
    assert is_blocked_page(response)
    assert hashes == []
    assert not Lockout.objects.exists()
    assert not AuditEvent.objects.filter(action="signin").exists()


def test_a_blocked_network_covers_every_address_in_it_ipv4_and_ipv6(alice, password):
    block("198.51.100.0/24")
    block("2001:db8:aa::/48")
    assert is_blocked_page(sign_in(browser("198.51.100.77"), alice, password))
    assert is_blocked_page(sign_in(browser("2001:db8:aa::5"), alice, password))
    # An IPv4-mapped IPv6 address is the IPv4 address.
    assert is_blocked_page(sign_in(browser("::ffff:198.51.100.1"), alice, password))
    assert sign_in(browser("198.51.101.1"), alice, password)["Location"] == "/dashboard/"


def test_an_expired_block_no_longer_refuses(alice, password):
    block(IP, duration=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        assert sign_in(browser(IP), alice, password)["Location"] == "/dashboard/"


def test_the_second_factor_step_is_refused_once_the_address_is_blocked(alice, password, hashes):
    enrolled = enroll(alice)
    client = browser(IP)
    start_two_factor(client, alice, password)
    block(IP)
    assert is_blocked_page(submit_code(client, enrolled.code()))
    assert not AuditEvent.objects.filter(action="2fa_failed").exists()
    assert "_auth_user_id" not in client.session


def test_the_emailed_device_code_step_is_refused_once_the_address_is_blocked(
    alice, password, mailoutbox
):
    trusted_browser(alice, password, ip="198.51.100.1")
    client = browser(IP, FIREFOX_WINDOWS)
    assert sign_in(client, alice, password)["Location"] == "/auth/device/"
    block(IP)
    assert is_blocked_page(client.post("/auth/device/", {"code": "000000"}))
    assert not AuditEvent.objects.filter(action="new_device_code_failed").exists()


def test_the_step_up_password_is_refused_from_a_blocked_address(alice, password, hashes):
    client = trusted_browser(alice, password, ip=IP)
    block(IP)
    hashes.clear()
    response = client.post("/settings/sessions/confirm/", {"password": password})
    assert is_blocked_page(response)
    assert hashes == []
    # Reading pages still works: the block is about checking secrets.
    assert client.get("/settings/sessions/").status_code == 200


def test_a_password_reset_is_refused_from_a_blocked_address(alice, password, hashes):
    client = browser(IP)
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    token = default_token_generator.make_token(alice)
    form_url = client.get(f"/auth/password/reset/{uid}/{token}/")["Location"]
    block(IP)
    hashes.clear()
    new = "another-Strong-passphrase-42"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert is_blocked_page(response)
    assert hashes == []
    alice.refresh_from_db()
    assert alice.check_password(password)
    assert is_blocked_page(client.post("/auth/password/reset/", {"email": alice.email}))


def test_signing_out_still_works_from_a_blocked_address(alice, password):
    client = trusted_browser(alice, password, ip=IP)
    block(IP)
    assert client.post("/auth/logout/")["Location"] == "/auth/login/"


# --- The block list page ------------------------------------------------------------------


def test_a_superuser_blocks_a_network_with_a_reason_and_an_expiry(operator_client):
    before = timezone.now()
    response = operator_client.post(
        "/operations/blocks/",
        {"network": "2001:db8:1::7/48", "reason": "credential stuffing", "duration": "24h"},
    )
    assert response["Location"] == "/operations/blocks/"
    row = BlockedNetwork.objects.get()
    assert row.network == "2001:db8:1::/48"
    assert row.reason == "credential stuffing"
    assert timedelta(hours=24) <= row.expires_at - before < timedelta(hours=24, seconds=5)
    event = AuditEvent.objects.get(action="ip_blocked")
    assert event.metadata["network"] == "2001:db8:1::/48"
    assert event.actor.username == "operator"
    assert "2001:db8:1::/48" in operator_client.get("/operations/blocks/").content.decode()


@pytest.mark.parametrize(
    "network", ["not-an-ip", "0.0.0.0/0", "10.0.0.0/7", "2001::/16", "203.0.113.0/33", ""]
)
def test_a_block_that_is_not_an_address_or_too_wide_is_a_400(operator_client, network):
    response = operator_client.post(
        "/operations/blocks/", {"network": network, "reason": "x", "duration": "1h"}
    )
    assert response.status_code == 400
    assert not BlockedNetwork.objects.exists()


def test_lifting_a_block_is_audited_and_lets_the_address_in_again(operator_client, alice, password):
    row = block(IP)
    response = operator_client.post(f"/operations/blocks/{row.pk}/lift/")
    assert response["Location"] == "/operations/blocks/"
    assert not BlockedNetwork.objects.exists()
    assert AuditEvent.objects.get(action="ip_unblocked").metadata["network"] == f"{IP}/32"
    assert sign_in(browser(IP), alice, password)["Location"] == "/dashboard/"


def test_only_superusers_see_or_change_the_block_list(client, alice):
    client.force_login(alice)
    assert client.get("/operations/blocks/").status_code == 403
    response = client.post("/operations/blocks/", {"network": IP, "reason": "x", "duration": "1h"})
    assert response.status_code == 403
    assert not BlockedNetwork.objects.exists()
