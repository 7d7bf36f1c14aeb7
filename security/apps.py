from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from accounts.tabs import register_tab

        # Features plug into the sign-in pipeline and listen to the accounts signals.
        from security.devices import (
            receivers as device_receivers,  # noqa: F401
            stages as device_stages,  # noqa: F401
        )
        from security.sessions import (
            receivers as session_receivers,  # noqa: F401
            stages as session_stages,  # noqa: F401
        )
        from security.suspicious import stages as suspicious_stages  # noqa: F401

        register_tab("sessions", "Sessions", "security:sessions")
