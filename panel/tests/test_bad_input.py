"""Bad input gets a 4xx and a clear message, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client():
    # A server error must show up as a status here, not as an exception in the test.
    return Client(raise_request_exception=False)


def test_invalid_utf8_in_a_form_body_gets_a_400(client):
    response = client.post("/auth/login/", data=b"username=%ff%fe&password=x", content_type=FORM)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()


def test_raw_invalid_utf8_bytes_in_a_form_body_get_a_400(client):
    response = client.post("/auth/login/", data=b"username=\xc3\x28&password=x", content_type=FORM)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()


def test_invalid_utf8_in_the_query_string_gets_a_400(client):
    response = client.get("/auth/login/", QUERY_STRING="next=%C0%AF")
    assert response.status_code == 400
    assert "address is not valid UTF-8" in response.content.decode()


def test_a_nul_byte_in_a_form_gets_a_400(client):
    response = client.post("/auth/login/", data=b"username=al%00ice&password=x", content_type=FORM)
    assert response.status_code == 400
    assert "characters that are not allowed" in response.content.decode()


def test_a_nul_byte_in_the_query_string_gets_a_400(client):
    response = client.get("/auth/login/", QUERY_STRING="next=/dash%00board/")
    assert response.status_code == 400
    assert "characters that are not allowed" in response.content.decode()


def test_a_one_megabyte_post_gets_a_400_too_large(client):
    response = client.post("/auth/login/", data=b"username=" + b"a" * 1_000_000, content_type=FORM)
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_a_large_multipart_post_gets_a_400_too_large(client):
    response = client.post("/auth/login/", {"username": "a" * 400_000, "password": "x"})
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_too_many_fields_get_a_400(client):
    body = "&".join(f"f{i}=x" for i in range(500)).encode()
    response = client.post("/auth/login/", data=body, content_type=FORM)
    assert response.status_code == 400
    assert "too many fields" in response.content.decode()


def test_a_malformed_content_length_gets_a_400(client):
    response = client.post(
        "/auth/login/", data=b"username=a", content_type=FORM, CONTENT_LENGTH="ten"
    )
    assert response.status_code == 400


def test_a_missing_csrf_token_gets_the_form_expired_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/auth/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Form expired" in body
    assert "Reload the page and try again" in body


def test_oversized_fields_get_a_form_error_not_a_500(client, alice):
    response = client.post(
        "/auth/login/", {"username": "a" * 100_000 + "@example.com", "password": "p" * 100_000}
    )
    assert response.status_code < 500
    assert response.status_code in (200, 400)


def test_control_characters_get_a_form_error_not_a_500(client):
    response = client.post(
        "/auth/login/", {"username": "ali\x07ce\x1b[31m\u202e", "password": "x\x08y"}
    )
    assert response.status_code == 400
    assert "sign you in with those details" in response.content.decode()


def test_invalid_utf8_in_a_multipart_body_is_not_a_500(client):
    boundary = "BoUnDaRy"
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\n').encode()
        + b"\xff\xfe\xc3\x28"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/auth/login/", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code < 500


def test_a_broken_multipart_body_is_not_a_500(client):
    response = client.post(
        "/auth/login/", data=b"--x\r\nno headers", content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code < 500
