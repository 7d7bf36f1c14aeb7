from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from accounts.tabs import register_tab
        from security.sessions import receivers  # noqa: F401
        from security.signin.middleware import register_stage

        register_tab("sessions", "Sessions", "security:sessions")
        register_stage("device", "security:device_code")
