"""Schemathesis against /api/schema/: generated requests to every operation, with an API
key and with an access token, find no 5xx and no response that breaks the schema
(status codes, content types, bodies, the error body on every 4xx).

Bounded: a few examples per operation (hypothesis, no shrinking), so the run stays well
under two minutes. Runs in the services leg (PostgreSQL: the same database as
production, NUL bytes and all)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from api import scopes

from .conftest import access_token_for

pytestmark = [pytest.mark.django_db, pytest.mark.services]

EXAMPLES = 6
# "Schema-valid data must be accepted" cannot hold for this API: a string the schema
# allows may still be refused by the service's own rule (a hostname that IDNA refuses,
# an address that is not an IP, a role id of another team), with a documented 400.
# Every other check runs: no 5xx, status codes, content types, headers, bodies.
NOT_CHECKED = [checks.positive_data_acceptance]


@pytest.fixture
def api_schema(db):
    from django.core.wsgi import get_wsgi_application

    # As Django's test client does: the test's transaction must survive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def no_rate_limits(settings):
    # Generated traffic is not an attack: no rate limit in the way of the checks.
    settings.API_KEY_RATE_LIMIT = "100000/m"
    settings.API_AUTH_FAILURE_RATE_LIMIT = "100000/m"


@pytest.fixture
def api_key(alice, acme, make_key, no_rate_limits):
    return make_key(alice, acme, scopes=list(scopes.SCOPES)).raw


@pytest.fixture
def access_token(alice, acme, no_rate_limits):
    return access_token_for(alice)


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def run_every_operation(schema, credential: str) -> int:
    """Each operation of the document, a bounded number of generated cases each; the
    first failure (with schemathesis's report and a reproducing call) fails the test."""
    headers = {"Authorization": f"Bearer {credential}"}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @BOUNDED
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=NOT_CHECKED)

        check()
        operations += 1
    return operations


def test_the_api_keeps_to_its_schema_with_an_api_key(api_schema, api_key):
    assert run_every_operation(api_schema, api_key) >= 14


def test_the_api_keeps_to_its_schema_with_an_access_token(api_schema, access_token):
    assert run_every_operation(api_schema, access_token) >= 14
