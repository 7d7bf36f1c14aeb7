"""The team pages. Each declares what it needs with ``@team_permission`` (enforced by
teams.middleware); the service checks again. Views are thin: form, service, message."""
