"""The team personas (Acme: alice Owner, mia Manager, dave Developer; Globex) for the
team rule of impersonation."""

from teams.tests.conftest import acme, dave, globex, mia  # noqa: F401
