"""Admin for the security app: each feature registers its own models."""

from security.sessions import admin as sessions_admin  # noqa: F401
from security.twofactor import admin as twofactor_admin  # noqa: F401
