"""Admin for the security app: each feature registers its own models."""

from security.blocking import admin as blocking_admin  # noqa: F401
from security.devices import admin as devices_admin  # noqa: F401
from security.lockout import admin as lockout_admin  # noqa: F401
from security.sessions import admin as sessions_admin  # noqa: F401
from security.stepup import admin as stepup_admin  # noqa: F401
from security.suspicious import admin as suspicious_admin  # noqa: F401
from security.twofactor import admin as twofactor_admin  # noqa: F401
