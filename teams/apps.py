from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams"

    def ready(self) -> None:
        from accounts.forms import register_signup_field
        from security.auditlog.rows import register_team_names
        from security.impersonation.rules import register_rule
        from security.metrics.alerts import register_team_scopes
        from security.sessions.services import register_policy_provider
        from security.stepup.high_security import register_scope_provider

        from . import (
            high_security,
            impersonation,
            policy,
            receivers,  # noqa: F401
            selectors,
            stages,  # noqa: F401 (registers team selection in the sign-in pipeline)
        )
        from .forms import TeamNameField

        # The strictest team security policy tightens the session policy.
        register_policy_provider("teams", policy.session_policy)
        # A user.manage holder may act as a member of their team whose role is lower.
        register_rule("teams", impersonation.may_act_as)

        # The audit log shows teams by name; the metric alerts tell each team's
        # system.admin holders about their team.
        register_team_names(selectors.team_names)
        register_team_scopes(selectors.alert_scopes)

        # High Security Mode: is it on for the page's team, and the member's role there.
        register_scope_provider("teams", high_security.scope)

        # Door A: sign-up asks for the name of the team the new account will own.
        register_signup_field(
            "team_name",
            TeamNameField(
                required=False,
                help_text=(
                    "You will be its Owner and can invite others once you're in. "
                    "Left empty, it is called after you."
                ),
            ),
        )
