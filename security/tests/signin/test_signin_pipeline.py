"""The sign-in pipeline speaks in values: driven here without a page or a response, only a
request that carries a real server-side session (where the pending state lives) and the
client's address. No message framework is installed on these requests, so a pipeline
that added a flash message would fail here."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse

from security.signin import pending, pipeline, stages
from security.signin.outcomes import (
    DeviceCodeRequired,
    Restart,
    SecondFactorRequired,
    SignedIn,
    StepRequired,
)
from security.twofactor.totp import verify_totp

pytestmark = pytest.mark.django_db


def bare_request(ip: str = "203.0.113.9") -> HttpRequest:
    request = HttpRequest()
    request.META = {
        "REMOTE_ADDR": ip,
        "HTTP_USER_AGENT": "pipeline test",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
    }
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    return request


def test_a_password_only_account_is_signed_in_and_the_outcome_is_a_value(alice):
    request = bare_request()
    outcome = pipeline.password_verified(request, alice, next_url="/settings/")
    assert outcome == SignedIn(user_id=alice.pk, method="password", next_url="/settings/")
    assert not isinstance(outcome, HttpResponse)
    assert request.session[SESSION_KEY] == str(alice.pk)


def test_an_unsafe_next_address_is_dropped_by_the_pipeline(alice):
    outcome = pipeline.password_verified(bare_request(), alice, next_url="https://evil.example/")
    assert isinstance(outcome, SignedIn) and outcome.next_url is None


def test_an_account_with_two_factor_gets_the_second_step_then_signs_in(alice, enroll_totp):
    enrolled = enroll_totp(alice)
    request = bare_request()
    assert pipeline.password_verified(request, alice) == SecondFactorRequired(user_id=alice.pk)
    assert SESSION_KEY not in request.session
    assert pending.get(request).stage == "2fa"
    result = verify_totp(user=alice, code=enrolled.code())
    outcome = pipeline.after_factors(request, alice, method="totp", device=result.device)
    assert isinstance(outcome, SignedIn) and outcome.method == "totp"
    assert pending.get(request) is None


def test_a_new_browser_of_a_known_account_gets_the_device_code_step(alice, settings):
    settings.NEW_DEVICE_APPROVAL = True
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    assert isinstance(pipeline.password_verified(bare_request(), alice), SignedIn)  # first ever
    second = bare_request(ip="198.51.100.7")
    outcome = pipeline.password_verified(second, alice)
    assert outcome == DeviceCodeRequired(user_id=alice.pk)
    assert SESSION_KEY not in second.session
    assert pending.get(second).stage == "device"


def test_completing_without_a_second_factor_after_2fa_was_turned_on_restarts(alice, enroll_totp):
    enroll_totp(alice)
    outcome = pipeline.complete(bare_request(), alice, method="password")
    assert isinstance(outcome, Restart)


def test_a_stage_a_feature_registers_runs_without_editing_the_pipeline(alice):
    """How team selection or a team's 2FA rule will plug in: a stage answers its own
    outcome, and the sign-in stops there."""

    def choose_a_team(attempt):
        return StepRequired(user_id=attempt.user.pk, stage="team")

    stages.register("team", choose_a_team, order=30, url_name="dashboard")
    try:
        request = bare_request()
        assert pipeline.password_verified(request, alice) == StepRequired(
            user_id=alice.pk, stage="team"
        )
        assert SESSION_KEY not in request.session
        assert stages.registered() == ["suspicious", "device", "team"]
    finally:
        stages._stages.pop("team")
        stages.STAGE_URL_NAMES.pop("team")
