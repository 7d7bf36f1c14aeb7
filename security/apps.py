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
        from security.impersonation import receivers as impersonation_receivers  # noqa: F401
        from security.sessions import (
            middleware as session_middleware,  # noqa: F401 (reads its row with the session)
            receivers as session_receivers,  # noqa: F401
            stages as session_stages,  # noqa: F401
        )
        from security.stepup import stages as stepup_stages  # noqa: F401
        from security.suspicious import stages as suspicious_stages  # noqa: F401

        register_tab("sessions", "Sessions", "security:sessions")

        # The audit log's network filter (ip__in_network) on SQLite.
        from django.db.backends.signals import connection_created

        from security.auditlog.lookups import register_sqlite_function

        connection_created.connect(register_sqlite_function, dispatch_uid="panel_ip_in_network")

        # One fail2ban line per failed sign-in, failed code and lockout.
        from django.db.models.signals import post_save

        from audit.models import AuditEvent
        from security.fail2ban import write_line

        post_save.connect(write_line, sender=AuditEvent, dispatch_uid="panel_fail2ban_line")

        # The "session errors" metric counts CSRF failures of signed-in requests and
        # interrupted sessions from Django's security loggers.
        from security.metrics import session_errors

        session_errors.install()
