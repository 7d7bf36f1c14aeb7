"""After sign-up, "Check your email" names the address the link went to, with a way to
fix a typo, and answers the same whether or not the address already had an account."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _db(db):
    pass


def _sign_up(client, send, data):
    with send():
        response = client.post("/auth/signup/", data)
    assert response.status_code == 302 and response["Location"] == "/auth/signup/done/"
    return client.get(response["Location"])


def test_check_your_email_names_the_address_the_link_went_to(client, send, signup_data):
    page = _sign_up(client, send, signup_data).content.decode()
    # Where the email went: the domain lower-cased, as it was sent.
    assert "Dana.Reyes@example.com" in page


def test_check_your_email_offers_a_way_to_fix_a_mistyped_address(client, send, signup_data):
    page = _sign_up(client, send, signup_data).content.decode()
    assert "Wrong address?" in page
    assert 'href="/auth/signup/"' in page


def test_a_taken_address_shows_the_same_page_with_the_address_typed(
    client, client_factory, send, user_factory, signup_data
):
    fresh = _sign_up(client, send, signup_data).content.decode()
    user_factory("someone", email="taken@example.com")
    other = client_factory()
    taken = _sign_up(other, send, {**signup_data, "email": "taken@EXAMPLE.com"}).content.decode()
    assert "taken@example.com" in taken
    strip = lambda page, address: page.replace(address, "ADDRESS")  # noqa: E731
    assert _body(strip(fresh, "Dana.Reyes@example.com")) == _body(strip(taken, "taken@example.com"))


def _body(page: str) -> str:
    """The card, without the CSRF token or anything else that differs per request."""
    return page.split('class="auth-card', 1)[-1].split("</main>", 1)[0]


def test_the_page_without_a_sign_up_in_this_browser_names_no_address(client):
    page = client.get("/auth/signup/done/").content.decode()
    assert "Check your email" in page
    assert "@" not in page.split("<main", 1)[-1].split("</main>", 1)[0]


def test_the_address_is_never_put_in_the_url(client, send, signup_data):
    with send():
        response = client.post("/auth/signup/", signup_data)
    assert "example.com" not in response["Location"]
