"""API keys: the Settings page (step-up, shown once, revoke) and what a key may do."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api import keys
from api.models import ApiKey
from audit.models import AuditEvent
from teams.models import Domain, Membership, Role

from .conftest import bearer, role, stepped_up

pytestmark = pytest.mark.django_db

DOMAINS = "/api/v1/domains"


# --- The page -------------------------------------------------------------------------


def test_the_page_is_a_settings_tab(alice_client, acme):
    response = alice_client.get(reverse("api:keys"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "API Keys" in text and "You have no API keys." in text


def test_creating_a_key_needs_a_recent_stepup(alice_client, acme):
    response = alice_client.get(reverse("api:key_create"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:stepup"))
    response = alice_client.post(
        reverse("api:key_create"), {"name": "CI", "scopes": ["domains:read"], "expiry": "30"}
    )
    assert response.status_code == 302
    assert not ApiKey.objects.exists()


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(alice_client, alice, acme):
    stepped_up(alice_client)
    response = alice_client.post(
        reverse("api:key_create"),
        {"name": "Monitoring", "scopes": ["domains:read", "audit:read"], "expiry": "30"},
    )
    assert response.status_code == 200
    raw = re.search(r'value="(pnl_[A-Za-z0-9_-]{43})"', response.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert key.key_hash == keys.key_hash(raw) and raw not in key.key_hash
    assert key.prefix == raw[:12] and key.team == acme and key.user == alice
    assert key.scopes == ["audit:read", "domains:read"]
    assert (key.expires_at - timezone.now()).days in (29, 30)
    assert "no-store" in response["Cache-Control"]
    # The list never shows it again.
    listing = alice_client.get(reverse("api:keys")).content.decode()
    assert raw not in listing and key.prefix in listing and "Monitoring" in listing
    event = AuditEvent.objects.get(action="api_key_created")
    assert event.metadata["api_key_id"] == key.pk and raw not in str(event.metadata)


def test_a_bad_form_is_a_400_with_the_reason(alice_client, acme):
    stepped_up(alice_client)
    response = alice_client.post(reverse("api:key_create"), {"name": "x", "expiry": "45"})
    assert response.status_code == 400
    assert "Choose at least one scope." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_key_is_revoked_from_the_list_and_stops_working(alice_client, alice, acme, api, make_key):
    new = make_key(alice, acme)
    assert api.get(DOMAINS, **bearer(new.raw)).status_code == 200
    response = alice_client.post(reverse("api:key_revoke", args=[new.key.pk]))
    assert response.status_code == 302
    response = api.get(DOMAINS, **bearer(new.raw))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert AuditEvent.objects.filter(action="api_key_revoked").count() == 1
    assert "Revoked" in alice_client.get(reverse("api:keys")).content.decode()


def test_another_users_key_cannot_be_revoked(client, bob, alice, acme, make_key):
    new = make_key(alice, acme)
    client.force_login(bob)
    assert client.post(reverse("api:key_revoke", args=[new.key.pk])).status_code == 404
    assert ApiKey.objects.get().revoked_at is None


def test_an_expired_key_is_refused_and_listed_as_expired(alice_client, alice, acme, api, make_key):
    new = make_key(alice, acme, expiry_days=30)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = api.get(DOMAINS, **bearer(new.raw))
        assert response.status_code == 401
        assert response.json()["error"]["message"]
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "Expired" in alice_client.get(reverse("api:keys")).content.decode()


# --- Keys on the API ------------------------------------------------------------------


def test_an_unknown_or_malformed_key_is_a_401_with_the_error_body(api, acme):
    for value in ("pnl_" + "A" * 43, "pnl_short", "Bearer", "pnl_" + "A" * 43 + " x"):
        response = api.get(DOMAINS, HTTP_AUTHORIZATION=f"Bearer {value}")
        assert response.status_code == 401, value
        assert set(response.json()["error"]) == {"code", "message"}
    # A header that is not ASCII never reaches the key check: 400, with the body.
    response = api.get(DOMAINS, HTTP_AUTHORIZATION="Bearer pnl_" + "é" * 43)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    assert api.get(DOMAINS).status_code == 401


def test_a_key_in_the_query_string_is_refused_and_never_recorded(
    api, alice, acme, make_key, caplog
):
    new = make_key(alice, acme)
    response = api.get(f"{DOMAINS}?api_key={new.raw}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "credentials_in_query"
    response = api.get(f"{DOMAINS}?q={new.raw}", **bearer(new.raw))
    assert response.status_code == 400
    assert new.raw not in caplog.text
    assert not AuditEvent.objects.filter(metadata__icontains=new.raw[:20]).exists()


def test_a_missing_scope_is_a_403(api, alice, acme, make_key):
    new = make_key(alice, acme, scopes=["audit:read"])
    response = api.get(DOMAINS, **bearer(new.raw))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"
    response = api.post(
        DOMAINS, {"hostname": "example.com"}, content_type="application/json", **bearer(new.raw)
    )
    assert response.status_code == 403
    assert not Domain.objects.exists()


def test_a_key_never_does_more_than_its_owner_may_do_now(api, dave, acme, make_key):
    """dave (Developer) holds site.create; his key with domains:write creates a domain.
    Once his role loses it, the same key is refused on the next request."""
    new = make_key(dave, acme, scopes=["domains:read", "domains:write"])
    post = lambda host: api.post(  # noqa: E731
        DOMAINS, {"hostname": host}, content_type="application/json", **bearer(new.raw)
    )
    assert post("one.example").status_code == 201
    viewer = Role.objects.create(team=acme, name="Viewer")
    Membership.objects.filter(user=dave, team=acme).update(role=viewer)
    response = post("two.example")
    assert response.status_code == 403
    assert "site.create" in response.json()["error"]["message"]
    assert list(Domain.objects.values_list("hostname", flat=True)) == ["one.example"]


def test_a_key_whose_owner_left_the_team_or_was_disabled_stops_at_once(
    api, dave, mia, acme, make_key
):
    left = make_key(dave, acme)
    Membership.objects.filter(user=dave).delete()
    response = api.get(DOMAINS, **bearer(left.raw))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_member"
    disabled = make_key(mia, acme)
    assert api.get(DOMAINS, **bearer(disabled.raw)).status_code == 200
    mia.is_active = False
    mia.save()
    assert api.get(DOMAINS, **bearer(disabled.raw)).status_code == 401


def test_a_key_of_an_account_that_must_change_its_password_is_refused_until_it_does(
    api, mia, acme, make_key
):
    from accounts import controls

    key = make_key(mia, acme)
    controls.force_password_change(actor=None, user=mia, source="command")
    response = api.get(DOMAINS, **bearer(key.raw))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "password_change_required"
    mia.refresh_from_db()
    mia.set_password("a brand new passphrase 93 lanterns")
    mia.must_change_password = False
    mia.save()
    assert api.get(DOMAINS, **bearer(key.raw)).status_code == 200


def test_members_read_needs_the_team_view_permission(api, dave, alice, acme, make_key):
    viewer = Role.objects.create(team=acme, name="Nothing")
    Membership.objects.filter(user=dave, team=acme).update(role=viewer)
    new = make_key(dave, acme, scopes=["members:read"])
    response = api.get("/api/v1/members", **bearer(new.raw))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_missing"
    owner = make_key(alice, acme, scopes=["members:read"])
    body = api.get("/api/v1/members", **bearer(owner.raw)).json()
    assert {m["username"] for m in body["results"]} == {"alice", "dave"}


def test_last_used_is_written_at_most_once_a_minute(api, alice, acme, make_key):
    new = make_key(alice, acme)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get(DOMAINS, **bearer(new.raw))
        first = ApiKey.objects.get().last_used_at
        assert first == start
        with CaptureQueriesContext(connection) as queries:
            api.get(DOMAINS, **bearer(new.raw))
        assert not [
            q for q in queries if q["sql"].startswith("UPDATE") and "api_apikey" in q["sql"]
        ]
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api.get(DOMAINS, **bearer(new.raw))
        assert ApiKey.objects.get().last_used_at == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get(DOMAINS, **bearer(new.raw))
        assert ApiKey.objects.get().last_used_at == start + timedelta(seconds=61)


def test_failures_are_counted_per_address(api, acme, settings):
    settings.API_AUTH_FAILURE_RATE_LIMIT = "3/m"
    statuses = [api.get(DOMAINS, **bearer("pnl_" + "B" * 43)).status_code for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    assert api.get(DOMAINS, **bearer("pnl_" + "B" * 43)).json()["error"]["code"] == "rate_limited"


def test_a_key_has_its_own_rate_limit(api, alice, acme, make_key, settings):
    settings.API_KEY_RATE_LIMIT = "2/m"
    new = make_key(alice, acme)
    statuses = [api.get(DOMAINS, **bearer(new.raw)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_key_shape():
    raw = keys.generate()
    assert raw.startswith("pnl_") and len(raw) == 47 and keys.looks_like_key(raw)
    assert keys.generate() != raw
    assert role("Owner").is_owner


def test_an_operator_revokes_keys_in_the_admin_and_never_sees_a_hash(
    operator_client, alice, acme, api, make_key
):
    new = make_key(alice, acme)
    page = operator_client.get("/admin/api/apikey/")
    assert page.status_code == 200 and new.key.prefix in page.content.decode()
    detail = operator_client.get(f"/admin/api/apikey/{new.key.pk}/change/").content.decode()
    assert new.key.key_hash not in detail and new.raw not in detail
    response = operator_client.post(
        "/admin/api/apikey/", {"action": "revoke", "_selected_action": [new.key.pk]}
    )
    assert response.status_code == 302
    assert api.get(DOMAINS, **bearer(new.raw)).status_code == 401
    event = AuditEvent.objects.filter(action="api_key_revoked").get()
    assert event.metadata["source"] == "admin" and event.user == alice
