import pytest
from django.contrib.auth import get_user_model

from accounts.forms import LOGIN_FAILED
from audit.models import AuditEvent

from .conftest import link_path

User = get_user_model()
pytestmark = pytest.mark.django_db


def test_the_sign_up_page_has_a_label_on_every_field_and_no_inline_script(client):
    response = client.get("/auth/signup/")
    assert response.status_code == 200
    body = response.content.decode()
    for field_id, label in [
        ("id_email", "Email address"),
        ("id_full_name", "Full name"),
        ("id_password1", "Password"),
        ("id_password2", "Confirm password"),
    ]:
        assert f'<label for="{field_id}">{label}</label>' in body
    assert 'src="/static/panel/js/password-strength' in body
    assert "<script>" not in body
    assert 'autocomplete="new-password"' in body
    assert 'autocomplete="off"' not in body
    assert "onpaste" not in body


def test_signing_up_creates_an_unverified_account_and_emails_a_link(
    client, send, mailoutbox, signup_data
):
    with send():
        response = client.post("/auth/signup/", signup_data)
    assert response.status_code == 302
    assert response["Location"] == "/auth/signup/done/"
    user = User.objects.get(email__iexact="dana.reyes@example.com")
    assert user.full_name == "Dana Reyes"
    assert user.username == "dana.reyes"
    assert user.email_verified_at is None
    assert user.check_password(signup_data["password1"])
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["Dana.Reyes@example.com"]  # domain lower-cased
    assert link_path(mailoutbox[0], "/auth/verify/").startswith("/auth/verify/")
    assert AuditEvent.objects.filter(action="signup", user=user, outcome="success").count() == 1


def test_the_check_your_email_page_says_what_to_do_next(client):
    response = client.get("/auth/signup/done/")
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert "send the link again" in response.content.decode()


def test_a_new_account_cannot_sign_in_before_verifying(client, send, signup_data):
    with send():
        client.post("/auth/signup/", signup_data)
    response = client.post(
        "/auth/login/", {"username": signup_data["email"], "password": signup_data["password1"]}
    )
    assert response.status_code == 400
    assert LOGIN_FAILED in response.content.decode().replace("&#x27;", "'")
    assert "/auth/verify/resend/" in response.content.decode()


def test_usernames_are_derived_from_the_address_and_kept_unique(client, send, strong_password):
    for email in ["jane@one.example", "JANE@two.example", "jane+x@three.example"]:
        data = {
            "email": email,
            "full_name": "Jane",
            "password1": strong_password,
            "password2": strong_password,
        }
        with send():
            assert client.post("/auth/signup/", data).status_code == 302
    assert sorted(User.objects.values_list("username", flat=True)) == ["jane", "jane2", "jane3"]


def test_a_derived_username_never_looks_like_the_panel_itself(client, send, strong_password):
    data = {
        "email": "admin@example.org",
        "full_name": "Ada Min",
        "password1": strong_password,
        "password2": strong_password,
    }
    with send():
        client.post("/auth/signup/", data)
    assert User.objects.get(email="admin@example.org").username == "admin2"


def test_signing_up_with_a_taken_address_looks_the_same_and_warns_its_owner(
    client, send, mailoutbox, alice, signup_data
):
    signup_data["email"] = "ALICE@example.com"
    with send():
        response = client.post("/auth/signup/", signup_data)
    # The same answer as a fresh sign-up: the page does not reveal the account.
    assert response.status_code == 302
    assert response["Location"] == "/auth/signup/done/"
    assert User.objects.count() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert "already have one" in mailoutbox[0].body
    event = AuditEvent.objects.get(action="signup")
    assert (event.outcome, event.user, event.metadata["reason"]) == (
        "failure",
        alice,
        "email_taken",
    )


def test_a_taken_but_unverified_address_gets_a_fresh_verification_link(
    client, send, mailoutbox, user_factory, signup_data
):
    user_factory("dana", email="dana.reyes@example.com", verified=False)
    with send():
        client.post("/auth/signup/", signup_data)
    assert len(mailoutbox) == 1
    link_path(mailoutbox[0], "/auth/verify/")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("zq8#Lw2!pX4", "too short"),
        ("qwerty123456789", "too common"),
        ("dana.reyes.example", "too similar"),
    ],
)
def test_a_weak_password_is_refused_with_a_reason(client, signup_data, password, reason):
    signup_data["password1"] = signup_data["password2"] = password
    response = client.post("/auth/signup/", signup_data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not User.objects.exists()


def test_mismatched_passwords_are_refused(client, signup_data):
    signup_data["password2"] = signup_data["password1"] + "x"
    response = client.post("/auth/signup/", signup_data)
    assert response.status_code == 400
    assert "don&#x27;t match" in response.content.decode()
    assert not User.objects.exists()


def test_an_empty_or_bad_form_gets_clear_messages_not_an_error(client):
    response = client.post("/auth/signup/", {"email": "not-an-address", "full_name": "\x07"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a valid email address." in body
    assert "not allowed" in body
    assert "This field is required." in body


def test_a_signed_in_user_is_sent_to_the_dashboard(alice_client):
    response = alice_client.get("/auth/signup/")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"


def test_repeated_sign_ups_for_one_address_stop_sending_email(
    client, send, mailoutbox, alice, signup_data
):
    signup_data["email"] = "alice@example.com"
    for _ in range(5):
        with send():
            response = client.post("/auth/signup/", signup_data)
        assert response["Location"] == "/auth/signup/done/"
    assert len(mailoutbox) == 3


def test_a_sign_up_flood_from_one_address_gets_429(client, signup_data):
    signup_data["password2"] = "mismatch"  # cheap: the limit counts every POST
    statuses = [client.post("/auth/signup/", signup_data).status_code for _ in range(21)]
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429


def test_form_errors_do_not_use_up_the_new_accounts_verification_email(
    client, send, mailoutbox, signup_data
):
    good = dict(signup_data)
    signup_data["password2"] = "typo"
    for _ in range(3):
        assert client.post("/auth/signup/", signup_data).status_code == 400
    with send():
        assert client.post("/auth/signup/", good)["Location"] == "/auth/signup/done/"
    assert len(mailoutbox) == 1
