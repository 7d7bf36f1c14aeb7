from django.urls import path

from security.auditlog import views as auditlog
from security.blocking import views as blocking
from security.devices import views as devices
from security.impersonation import views as impersonation
from security.metrics import prometheus, views as metrics
from security.passkeys import views as passkeys
from security.sessions import views as sessions
from security.signin import views as signin
from security.stepup import settings_views as high_security, views as stepup
from security.suspicious import views as suspicious
from security.twofactor import views as twofactor

app_name = "security"

# Sign-in: the password, the second factor, the emailed new-device code, a held sign-in.
signin_urlpatterns: list = [
    path("auth/login/", signin.login_view, name="login"),
    path("auth/logout/", signin.logout_view, name="logout"),
    path("auth/2fa/", signin.twofactor_signin, name="twofactor_signin"),
    path(
        "auth/2fa/passkey/options/",
        signin.twofactor_passkey_options,
        name="twofactor_passkey_options",
    ),
    path("auth/passkey/", signin.passkey_signin, name="passkey_signin"),
    path("auth/passkey/options/", signin.passkey_signin_options, name="passkey_signin_options"),
    path("auth/device/", signin.device_code, name="device_code"),
    path("auth/device/resend/", signin.device_code_resend, name="device_code_resend"),
    path("auth/held/", signin.signin_held, name="signin_held"),
]

# Held sign-ins decided by the owner: emailed links, or a trusted signed-in browser.
suspicious_urlpatterns: list = [
    path("auth/review/<str:token>/", suspicious.signin_review, name="signin_review"),
    path("auth/not-me/<str:token>/", suspicious.not_me, name="not_me"),
    path(
        "settings/sessions/held/<int:pk>/<str:action>/",
        suspicious.decide_held_signin,
        name="held_signin_decide",
    ),
]

# Two-factor authentication: enrollment, backup codes, turning it off.
twofactor_urlpatterns: list = [
    path("settings/security/2fa/enable/", twofactor.twofactor_enable, name="twofactor_enable"),
    path("settings/security/2fa/setup/", twofactor.twofactor_setup, name="twofactor_setup"),
    path(
        "settings/security/2fa/backup-codes/",
        twofactor.twofactor_regenerate,
        name="twofactor_regenerate",
    ),
    path("settings/security/2fa/disable/", twofactor.twofactor_disable, name="twofactor_disable"),
]

# Passkeys and security keys (adding and removing need a recent step-up).
passkeys_urlpatterns: list = [
    path("settings/security/passkeys/add/", passkeys.passkey_add, name="passkey_add"),
    path(
        "settings/security/passkeys/add/options/",
        passkeys.passkey_add_options,
        name="passkey_add_options",
    ),
    path(
        "settings/security/passkeys/<int:pk>/rename/",
        passkeys.passkey_rename,
        name="passkey_rename",
    ),
    path(
        "settings/security/passkeys/<int:pk>/remove/",
        passkeys.passkey_remove,
        name="passkey_remove",
    ),
]

# Sessions tab (revoking needs a recent step-up) and trusted devices.
sessions_urlpatterns: list = [
    path("settings/sessions/", sessions.sessions_tab, name="sessions"),
    path("settings/sessions/confirm/", stepup.stepup, name="stepup"),
    path(
        "settings/sessions/confirm/passkey/options/",
        stepup.stepup_passkey_options,
        name="stepup_passkey_options",
    ),
    path("settings/sessions/<int:pk>/revoke/", sessions.revoke_session, name="session_revoke"),
    path(
        "settings/sessions/revoke-others/",
        sessions.revoke_other_sessions,
        name="sessions_revoke_others",
    ),
    path("settings/devices/<int:pk>/forget/", devices.forget_device, name="device_forget"),
]

# Operations (superusers): the audit log and its export, failed attempts, the block list.
operations_urlpatterns: list = [
    path("operations/audit/", auditlog.audit_log, name="audit_log"),
    path("operations/audit/export.csv", auditlog.audit_export, name="audit_export"),
    path("operations/failed-attempts/", blocking.failed_attempts, name="failed_attempts"),
    path("operations/failed-attempts/unlock/", blocking.unlock, name="failed_attempts_unlock"),
    path("operations/blocks/", blocking.ip_blocks, name="ip_blocks"),
    path("operations/blocks/<int:pk>/lift/", blocking.ip_block_remove, name="ip_block_remove"),
    path("operations/metrics/", metrics.metrics_dashboard, name="metrics_dashboard"),
    path(
        "operations/high-security/",
        high_security.high_security_settings,
        name="high_security",
    ),
    path(
        "operations/high-security/switch/",
        high_security.high_security_switch,
        name="high_security_switch",
    ),
    # Prometheus (bearer token from METRICS_TOKEN; public URL, no session).
    path("metrics", prometheus.prometheus_metrics, name="prometheus_metrics"),
]

# Impersonation: an administrator acts as another user (start needs a fresh step-up).
impersonation_urlpatterns: list = [
    path("impersonate/end/", impersonation.impersonate_end, name="impersonate_end"),
    path("impersonate/<int:user_id>/", impersonation.impersonate_start, name="impersonate"),
]

urlpatterns = (
    signin_urlpatterns
    + suspicious_urlpatterns
    + twofactor_urlpatterns
    + passkeys_urlpatterns
    + sessions_urlpatterns
    + operations_urlpatterns
    + impersonation_urlpatterns
)
