"""The session's user read with the tracked session (one join) answers Django's session
check exactly as a fresh read would: the same user, nobody for an inactive account, and
a read of its own for any other id."""

from __future__ import annotations

import pytest

from accounts.backends import EmailOrUsernameBackend, prefetched_user

pytestmark = pytest.mark.django_db


def get_user(prefetched, user_id):
    token = prefetched_user.set(prefetched)
    try:
        return EmailOrUsernameBackend().get_user(user_id)
    finally:
        prefetched_user.reset(token)


def test_the_prefetched_user_is_used_for_its_own_id(alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert get_user(alice, str(alice.pk)) is alice


def test_an_inactive_prefetched_user_is_nobody(alice, django_assert_num_queries):
    alice.is_active = False
    with django_assert_num_queries(0):
        assert get_user(alice, str(alice.pk)) is None


def test_another_id_or_a_malformed_one_is_read_from_the_database(alice, bob):
    found = get_user(alice, str(bob.pk))
    assert found == bob and found is not bob
    with pytest.raises(ValueError):  # as ModelBackend answers a malformed id
        get_user(alice, "not-a-number")
    assert EmailOrUsernameBackend().get_user(str(alice.pk)) == alice  # nothing prefetched


def test_a_password_changed_elsewhere_still_ends_the_session(client, alice, password):
    from security.tests.helpers import sign_in_password

    assert sign_in_password(client, "alice", password).status_code == 302
    assert client.get("/dashboard/").status_code == 200
    alice.set_password("a completely different passphrase 99")
    alice.save()
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")
