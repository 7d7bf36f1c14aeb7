"""The API's own policy matrix: every URL under /api/, requested with each credential.

The page matrix (panel/tests/test_policy_matrix.py) crawls the pages as browser personas;
the API authenticates with a header and answers JSON, so its rows are per credential:
**none** no Authorization header; **bad** an unknown key; **narrow** a key of alice
(Owner) holding only ``audit:read``; **key** a key of alice with every scope; **dev** a key
of dave (Developer) with every scope; **token** an access token of alice.

Each cell is ``GET | POST`` (POST with an empty JSON object). Everywhere: no 500, every
4xx has the error body, and a request without a credential changes nothing.
"""

from __future__ import annotations

import pytest
from django.test import Client

from api import scopes
from audit.models import AuditEvent
from panel.tests.access import is_public, url_patterns
from teams.models import Domain, Membership

from .conftest import access_token_for, bearer

pytestmark = pytest.mark.django_db

CREDENTIALS = ("none", "bad", "narrow", "key", "dev", "token")


def row(**cells) -> dict:
    return {c: cells.get(c, cells.get("default")) for c in CREDENTIALS}


AUTHED = {"none": "401 | 401", "bad": "401 | 401"}
# A resource: refused without a credential, per scope and permission with one.
EXPECTED = {
    "api:domains": row(
        **AUTHED, narrow="403 | 403", key="200 | 400", dev="200 | 400", token="200 | 400"
    ),
    "api:domain": row(
        **AUTHED, narrow="403 | 405", key="200 | 405", dev="200 | 405", token="200 | 405"
    ),
    "api:members": row(
        **AUTHED, narrow="403 | 405", key="200 | 405", dev="200 | 405", token="200 | 405"
    ),
    "api:member": row(
        **AUTHED, narrow="403 | 405", key="200 | 405", dev="200 | 405", token="200 | 405"
    ),
    # dave (Developer) has no events.read.
    "api:audit": row(
        **AUTHED, narrow="200 | 405", key="200 | 405", dev="403 | 405", token="200 | 405"
    ),
    # Sign-in: public; an empty body is a 400 naming the missing fields.
    "api:login": row(default="405 | 400"),
    "api:login_2fa": row(default="405 | 400"),
    "api:login_device": row(default="405 | 400"),
    "api:token_refresh": row(default="405 | 400"),
    # The account itself: an access token only (a key is a 403).
    "api:logout": row(
        **AUTHED, narrow="403 | 403", key="403 | 403", dev="403 | 403", token="405 | 204"
    ),
    **{
        name: row(**AUTHED, narrow="403 | 403", key="403 | 403", dev="403 | 403", token="405 | 400")
        for name in (
            "api:2fa_setup",
            "api:2fa_verify_enrollment",
            "api:2fa_disable",
            "api:2fa_regenerate",
        )
    },
    # Public: the OpenAPI document and Swagger UI.
    "api:schema": row(default="200 | 405"),
    "api:docs": row(default="200 | 405"),
}
# Reviewed list of API endpoints that take no credential.
PUBLIC = {
    "api:login": "sign-in with a password (rate-limited, lockout)",
    "api:login_2fa": "the 2FA step (a 5-minute challenge token in the body)",
    "api:login_device": "the emailed new-device code step",
    "api:token_refresh": "refresh-token rotation (the refresh token in the body)",
    "api:schema": "the OpenAPI document",
    "api:docs": "Swagger UI (static files from drf-spectacular-sidecar)",
}


def api_routes():
    return [r for r in url_patterns() if r.route.startswith("api/")]


@pytest.fixture
def world(alice, acme, dave, make_key):
    domain = Domain.objects.create(team=acme, hostname="matrix.example")
    creds = {
        "none": None,
        "bad": "pnl_" + "Z" * 43,
        "narrow": make_key(alice, acme, scopes=[scopes.AUDIT_READ]).raw,
        "key": make_key(alice, acme, scopes=list(scopes.SCOPES)).raw,
        "dev": make_key(dave, acme, scopes=list(scopes.SCOPES)).raw,
        "token": access_token_for(alice),
    }
    kwargs = {
        "api:domain": {"domain_id": domain.pk},
        "api:member": {"membership_id": Membership.objects.get(user=dave).pk},
    }
    return creds, kwargs


def test_every_api_url_is_in_the_matrix():
    names = {r.name for r in api_routes()}
    assert names == set(EXPECTED)
    # Every API view is public to the session middleware (it authenticates itself);
    # these are the ones that take no credential at all.
    assert all(is_public(r.view) for r in api_routes())
    for name in PUBLIC:
        view = next(r.view for r in api_routes() if r.name == name)
        initkwargs = getattr(view, "initkwargs", {})
        classes = initkwargs.get("authentication_classes", view.cls.authentication_classes)
        assert classes == [], name


@pytest.mark.parametrize("route", api_routes(), ids=lambda r: r.name)
def test_each_api_url_answers_each_credential_as_the_matrix_says(route, world):
    from django.urls import reverse

    creds, kwargs = world
    path = reverse(route.name, kwargs=kwargs.get(route.name))
    for credential in CREDENTIALS:
        client = Client(REMOTE_ADDR="198.51.100.30")
        headers = bearer(creds[credential]) if creds[credential] else {}
        get_cell, post_cell = (c.strip() for c in EXPECTED[route.name][credential].split("|"))
        where = f"{route.name} with {credential}"
        events = AuditEvent.objects.count()
        response = client.get(path, **headers)
        assert response.status_code == int(get_cell), f"GET {where}: {response.status_code}"
        _json_error_if_4xx(response, where)
        response = client.post(path, {}, content_type="application/json", **headers)
        assert response.status_code == int(post_cell), f"POST {where}: {response.status_code}"
        _json_error_if_4xx(response, where)
        if credential in ("none",):
            assert AuditEvent.objects.count() == events, where


def _json_error_if_4xx(response, where):
    if where.startswith("api:docs"):
        return  # an HTML page (Swagger UI)
    if 400 <= response.status_code < 500:
        error = response.json()["error"]
        assert error["code"] and error["message"], where
