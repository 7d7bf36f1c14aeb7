"""Security review: "the same address" must mean what the database's unique rule means
(services leg: PostgreSQL).

The unique constraint compares ``LOWER(email)``; the sign-up's "address taken" check
used ``iexact``, which PostgreSQL runs as ``UPPER(a) = UPPER(b)``. They disagree on a few
characters Django's email validator accepts: the Kelvin sign ``K`` (U+212A) lower-cases
to ``k`` but upper-cases to itself. Signing up as ``Kevin@example.com`` while
``kevin@example.com`` had an account passed the check, hit the constraint five times and
answered 500, while a free address answered "check your email": an account oracle.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Lower

from accounts.models import OutboxEmail, User

pytestmark = [pytest.mark.services, pytest.mark.django_db]

KELVIN = "\u212aevin@example.com"  # Kevin@example.com, with the Kelvin sign


def test_the_database_lower_cases_the_kelvin_sign_to_an_ascii_k(user_factory):
    # The premise: on PostgreSQL the unique rule sees the two addresses as one.
    assert connection.vendor == "postgresql"
    kevin = user_factory("kevin")
    assert User.objects.annotate(e=Lower("email")).filter(e=Lower(Value(KELVIN))).get() == kevin


def test_signing_up_with_a_kelvin_sign_spelling_of_a_taken_address_looks_like_any_taken_one(
    client, send, user_factory, signup_data
):
    kevin = user_factory("kevin")
    signup_data.update(email=KELVIN, full_name="Kevin Again")
    with send():
        response = client.post("/auth/signup/", signup_data)
    assert response.status_code == 302
    assert response["Location"] == "/auth/signup/done/"
    assert list(User.objects.all()) == [kevin]
    # The owner is warned, as for any taken address (the outbox row: in the services
    # leg the email itself goes through the worker to the SMTP sink).
    [warning] = OutboxEmail.objects.all()
    assert (warning.recipient, warning.template) == ("kevin@example.com", "signup_existing")
