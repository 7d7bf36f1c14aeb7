"""Operators: no default accounts, and `manage.py createsuperuser` with the custom user."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_no_user_exists_after_the_migrations():
    assert User.objects.count() == 0
    assert not User.objects.filter(username__in=["admin", "root", "administrator"]).exists()


def test_createsuperuser_works_non_interactively_with_the_custom_user(monkeypatch, client):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator's long passphrase 7")
    call_command(
        "createsuperuser",
        "--noinput",
        "--username=operator",
        "--email=ops@example.com",
        verbosity=0,
    )

    operator = User.objects.get(username="operator")
    assert operator.is_superuser and operator.is_staff and operator.is_active
    assert operator.email == "ops@example.com"
    assert operator.check_password("an operator's long passphrase 7")
    # The hash is never the password itself.
    assert "passphrase" not in operator.password


def test_createsuperuser_refuses_a_username_taken_in_another_case(monkeypatch, user_factory):
    user_factory("operator")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator's long passphrase 7")
    with pytest.raises(CommandError):
        call_command(
            "createsuperuser",
            "--noinput",
            "--username=OPERATOR",
            "--email=other@example.com",
            verbosity=0,
        )
    assert User.objects.filter(username__iexact="operator").count() == 1


def test_createsuperuser_needs_an_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator's long passphrase 7")
    with pytest.raises(CommandError, match="email"):
        call_command("createsuperuser", "--noinput", "--username=operator", verbosity=0)
    assert User.objects.count() == 0


def test_createsuperuser_reads_every_field_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "nightshift")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "night@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator's long passphrase 7")
    call_command("createsuperuser", "--noinput", verbosity=0)
    operator = User.objects.get(username="nightshift")
    assert operator.is_superuser and operator.email == "night@example.com"
