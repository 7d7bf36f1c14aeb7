from django.urls import path

from .views import (
    audit,
    choose,
    domains,
    events,
    high_security,
    invitations,
    members,
    metrics,
    policy,
    roles,
    switch,
)

app_name = "teams"

team = "teams/<int:team_id>/"

urlpatterns = [
    path("teams/switch/", switch.switch_team, name="switch"),
    path("teams/choose/", choose.choose_team, name="choose"),
    path(team, domains.team_home, name="team"),
    path(team + "domains/", domains.domain_list, name="domains"),
    path(team + "domains/new/", domains.domain_create, name="domain_create"),
    path(team + "domains/<int:domain_id>/edit/", domains.domain_edit, name="domain_edit"),
    path(team + "domains/<int:domain_id>/delete/", domains.domain_delete, name="domain_delete"),
    path(team + "members/", members.member_list, name="members"),
    path(team + "leave/", members.member_leave, name="leave"),
    path(
        team + "members/<int:membership_id>/role/",
        members.member_change_role,
        name="member_role",
    ),
    path(team + "members/<int:membership_id>/remove/", members.member_remove, name="member_remove"),
    path(
        team + "members/<int:membership_id>/account/",
        members.member_account,
        name="member_account",
    ),
    path(team + "roles/", roles.role_list, name="roles"),
    path(team + "roles/new/", roles.role_create, name="role_create"),
    path(team + "roles/<int:role_id>/edit/", roles.role_edit, name="role_edit"),
    path(team + "roles/<int:role_id>/delete/", roles.role_delete, name="role_delete"),
    path(team + "permissions/", audit.permission_matrix, name="permissions"),
    path(team + "permissions.csv", audit.permission_matrix_csv, name="permissions_csv"),
    path(team + "policy/", policy.policy_edit, name="policy"),
    path(team + "events/", events.event_log, name="events"),
    path(team + "events.csv", events.event_export, name="events_csv"),
    path(team + "metrics/", metrics.metrics_dashboard, name="metrics"),
    path(team + "high-security/", high_security.team_high_security, name="high_security"),
    path(team + "invitations/", invitations.invitation_list, name="invitations"),
    path(
        team + "invitations/<int:invitation_id>/resend/",
        invitations.invitation_resend,
        name="invitation_resend",
    ),
    path(
        team + "invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", invitations.invitation_open, name="invitation"),
]
