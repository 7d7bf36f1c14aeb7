import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/auth/password-strength/"


def _score(client, payload, **extra):
    return client.post(URL, json.dumps(payload), content_type="application/json", **extra)


@pytest.mark.parametrize(
    ("password", "label"),
    [
        ("qwerty123456789", "weak"),
        ("zq8#Lw2!pX4", "weak"),
        ("velvet orbit canyon 7 lantern", "strong"),
    ],
)
def test_the_endpoint_labels_a_password_weak_medium_or_strong(client, password, label):
    response = _score(client, {"password": password})
    assert response.status_code == 200
    assert response.json()["label"] == label


def test_a_refused_password_is_weak_and_the_reason_is_the_validators(client):
    data = _score(client, {"password": "zq8#Lw2!pX4"}).json()
    assert data["message"] == "This password is too short. It must contain at least 12 characters."


def test_the_name_typed_on_the_form_counts_against_the_password(client):
    data = _score(
        client,
        {"password": "dana.reyes.example", "email": "dana.reyes@example.com", "full_name": "Dana"},
    ).json()
    assert data["label"] == "weak"
    assert "similar" in data["message"]


def test_an_over_long_password_is_weak_not_an_error(client):
    data = _score(client, {"password": "a b c " * 40}).json()
    assert data["label"] == "weak"
    assert "at most 128" in data["message"]


def test_the_endpoint_refuses_a_post_without_the_csrf_token():
    strict = Client(enforce_csrf_checks=True)
    response = _score(strict, {"password": "velvet orbit canyon 7 lantern"})
    assert response.status_code == 403


def test_the_endpoint_accepts_the_token_from_the_form_in_a_header():
    strict = Client(enforce_csrf_checks=True)
    strict.get("/auth/signup/")
    page = strict.get("/auth/signup/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = _score(strict, {"password": "velvet orbit canyon 7 lantern"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"password": 5}', '"x"'])
def test_malformed_requests_get_a_400(client, body):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_an_oversized_body_is_refused(client):
    assert _score(client, {"password": "x" * 10_000}).status_code == 413


def test_the_endpoint_is_rate_limited_per_ip(client):
    statuses = {_score(client, {"password": ""}).status_code for _ in range(120)}
    assert statuses == {200}
    assert _score(client, {"password": ""}).status_code == 429
