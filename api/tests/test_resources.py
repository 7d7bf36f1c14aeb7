"""The resources: same services as the pages, audited with the key or token that acted,
and bad input answered with a 4xx and the error body, changing nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from teams.models import Domain, Membership, Role

from .conftest import bearer, role, token_pair_for

pytestmark = pytest.mark.django_db

DOMAINS = "/api/v1/domains"
ALL = ["domains:read", "domains:write", "members:read", "members:write", "audit:read"]


@pytest.fixture
def owner_key(alice, acme, make_key):
    return make_key(alice, acme, scopes=ALL)


def send(api, method, path, body, key, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(api, method)(path, data, content_type="application/json", **bearer(key), **extra)


def test_domains_crud_through_the_services_audited_with_the_key(api, owner_key, acme):
    created = send(
        api, "post", DOMAINS, {"hostname": "Shop.Example.", "notes": "main"}, owner_key.raw
    )
    assert created.status_code == 201
    domain = created.json()
    assert domain["hostname"] == "shop.example"  # the service's normalisation
    event = AuditEvent.objects.get(action="domain_created")
    assert event.metadata["via"] == "api_key"
    assert event.metadata["api_key_id"] == owner_key.key.pk
    assert owner_key.raw not in json.dumps(event.metadata)
    assert event.team_id == acme.pk

    path = f"{DOMAINS}/{domain['id']}"
    assert api.get(path, **bearer(owner_key.raw)).json()["notes"] == "main"
    changed = send(api, "put", path, {"hostname": "shop2.example"}, owner_key.raw)
    assert changed.status_code == 200 and changed.json()["hostname"] == "shop2.example"
    duplicate = send(api, "post", DOMAINS, {"hostname": "shop2.example"}, owner_key.raw)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["message"]
    assert api.delete(path, **bearer(owner_key.raw)).status_code == 204
    assert api.get(path, **bearer(owner_key.raw)).status_code == 404
    assert not Domain.objects.exists()


def test_an_access_token_acts_in_the_named_team_and_is_audited_with_its_session(
    api, olga, acme, globex
):
    pair = token_pair_for(olga)
    ambiguous = api.get(DOMAINS, **bearer(pair.access))
    assert ambiguous.status_code == 400 and ambiguous.json()["error"]["code"] == "team_required"
    # Developer in Acme: may add a domain; Owner in Globex.
    created = send(
        api, "post", f"{DOMAINS}?team={globex.pk}", {"hostname": "g.example"}, pair.access
    )
    assert created.status_code == 201
    event = AuditEvent.objects.get(action="domain_created")
    assert event.metadata["via"] == "access" and event.team_id == globex.pk
    other = Client().get(f"{DOMAINS}?team=999999", **bearer(pair.access))
    assert other.status_code == 404


def test_members_write_changes_roles_within_the_callers_own_rights(
    api, alice, mia, dave, acme, make_key
):
    mine = make_key(mia, acme, scopes=["members:read", "members:write"])
    dave_membership = Membership.objects.get(user=dave)
    alice_membership = Membership.objects.get(user=alice)
    manager = role("Manager")
    promoted = send(
        api, "patch", f"/api/v1/members/{dave_membership.pk}", {"roleId": manager.pk}, mine.raw
    )
    assert promoted.status_code == 200 and promoted.json()["role"]["name"] == "Manager"
    assert (
        AuditEvent.objects.get(action="member_role_changed").metadata["api_key_id"] == mine.key.pk
    )
    # A Manager cannot make anyone Owner, nor touch the Owner.
    owner = role(Role.OWNER)
    for membership in (dave_membership, alice_membership):
        refused = send(
            api, "patch", f"/api/v1/members/{membership.pk}", {"roleId": owner.pk}, mine.raw
        )
        assert refused.status_code == 403, refused.content
    assert Membership.objects.get(user=alice).role == owner
    assert Membership.objects.get(user=dave).role == manager


def test_audit_lists_the_teams_events_filtered_and_paginated(api, owner_key, acme):
    for n in range(3):
        send(api, "post", DOMAINS, {"hostname": f"d{n}.example"}, owner_key.raw)
    page = api.get("/api/v1/audit?action=domain_created&pageSize=2", **bearer(owner_key.raw))
    assert page.status_code == 200
    body = page.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert {e["action"] for e in body["results"]} == {"domain_created"}
    assert api.get("/api/v1/audit?outcome=nonsense", **bearer(owner_key.raw)).status_code == 400
    assert api.get("/api/v1/audit?since=2026-13-45", **bearer(owner_key.raw)).status_code == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "malformed_body"),
        ('{"hostname": 12}', "invalid"),
        ('["a", "b"]', "invalid"),
        ('{"hostname": "x.example", "admin": true}', "invalid"),
        ('{"hostname": "a\\u0000.example"}', "invalid"),
        ('{"hostname": ""}', "invalid"),
        ('{"hostname": "' + "a" * 300 + '.example"}', "invalid"),
    ],
)
def test_bad_bodies_are_a_400_with_the_error_body_and_change_nothing(api, owner_key, body, code):
    events = AuditEvent.objects.count()
    response = send(api, "post", DOMAINS, body, owner_key.raw)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not Domain.objects.exists() and AuditEvent.objects.count() == events


def test_a_1_mb_body_is_refused_before_it_is_read(api, owner_key):
    body = json.dumps({"hostname": "x.example", "notes": "n" * (1024 * 1024)})
    response = send(api, "post", DOMAINS, body, owner_key.raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert not Domain.objects.exists()


def test_other_media_types_and_huge_page_sizes_are_4xx(api, owner_key):
    form = api.post(DOMAINS, {"hostname": "x.example"}, **bearer(owner_key.raw))
    assert form.status_code == 415 and form.json()["error"]["code"] == "unsupported_media_type"
    huge = api.get(f"{DOMAINS}?pageSize=100000", **bearer(owner_key.raw))
    assert huge.status_code == 400 and huge.json()["error"]["code"] == "invalid_page_size"
    assert api.get(f"{DOMAINS}?page=99", **bearer(owner_key.raw)).status_code == 404
    forged = api.get(f"{DOMAINS}/99999999999999999999999", **bearer(owner_key.raw))
    assert forged.status_code == 404
    assert api.get(f"{DOMAINS}/%00", **bearer(owner_key.raw)).status_code == 400


def test_tokens_in_a_query_string_are_refused(api, alice, acme):
    pair = token_pair_for(alice)
    for query in (f"access_token={pair.access}", f"x={pair.refresh}", "token=abc"):
        response = api.get(f"{DOMAINS}?{query}", **bearer(pair.access))
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "credentials_in_query"


def test_unknown_paths_and_server_errors_under_api_answer_the_error_body(
    api, owner_key, monkeypatch
):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert "Content-Security-Policy" in missing and missing["X-Content-Type-Options"] == "nosniff"
    from api.views import resources

    def boom(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(resources.DomainList, "get", boom)
    client = Client(raise_request_exception=False)
    response = client.get(DOMAINS, **bearer(owner_key.raw))
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Something went wrong on our side. Try again later.",
        }
    }
