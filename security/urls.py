from django.urls import path

from security.devices import views as devices
from security.sessions import views as sessions
from security.twofactor import views as twofactor

app_name = "security"

# Two-factor authentication: enrollment, backup codes, the sign-in step.
twofactor_urlpatterns: list = [
    path("auth/2fa/", twofactor.twofactor_signin, name="twofactor_signin"),
    path("settings/security/2fa/enable/", twofactor.twofactor_enable, name="twofactor_enable"),
    path("settings/security/2fa/setup/", twofactor.twofactor_setup, name="twofactor_setup"),
    path(
        "settings/security/2fa/backup-codes/",
        twofactor.twofactor_regenerate,
        name="twofactor_regenerate",
    ),
    path("settings/security/2fa/disable/", twofactor.twofactor_disable, name="twofactor_disable"),
]

# Sessions tab, trusted devices, new-device approval, suspicious sign-ins.
sessions_urlpatterns: list = [
    path("settings/sessions/", sessions.sessions_tab, name="sessions"),
    path("settings/sessions/confirm/", sessions.stepup, name="stepup"),
    path("settings/sessions/<int:pk>/revoke/", sessions.revoke_session, name="session_revoke"),
    path(
        "settings/sessions/revoke-others/",
        sessions.revoke_other_sessions,
        name="sessions_revoke_others",
    ),
    path(
        "settings/sessions/held/<int:pk>/<str:action>/",
        sessions.decide_held_signin,
        name="held_signin_decide",
    ),
    path("settings/devices/<int:pk>/forget/", sessions.forget_device, name="device_forget"),
    path("auth/device/", devices.device_code, name="device_code"),
    path("auth/device/resend/", devices.device_code_resend, name="device_code_resend"),
    path("auth/held/", devices.signin_held, name="signin_held"),
    path("auth/review/<str:token>/", devices.signin_review, name="signin_review"),
    path("auth/not-me/<str:token>/", devices.not_me, name="not_me"),
]

urlpatterns = twofactor_urlpatterns + sessions_urlpatterns
