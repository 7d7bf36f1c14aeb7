from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        # Sessions, devices, suspicious sign-ins (issue 4).
        from accounts.tabs import register_tab

        from . import (
            session_signals,  # noqa: F401
            signals,  # noqa: F401
        )

        register_tab("sessions", "Sessions", "security:sessions")
        from .middleware import register_stage

        register_stage("device", "security:device_code")
