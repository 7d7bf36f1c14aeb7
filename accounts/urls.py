from django.urls import path

from .views import email, password, settings, signup, verify

app_name = "accounts"

urlpatterns = [
    # Sign-up and email verification
    path("auth/signup/", signup.signup_view, name="signup"),
    path("auth/signup/done/", signup.check_email, {"kind": "signup"}, name="signup_done"),
    path("auth/verify/resend/", verify.resend_view, name="verify_resend"),
    path("auth/verify/sent/", signup.check_email, {"kind": "verify"}, name="verify_sent"),
    path("auth/verify/confirm/", verify.verify_confirm, name="verify_confirm"),
    path("auth/verify/<str:token>/", verify.verify_link, name="verify"),
    # Forgotten password
    path("auth/password/reset/", password.reset_request, name="password_reset"),
    path(
        "auth/password/reset/sent/",
        signup.check_email,
        {"kind": "reset"},
        name="password_reset_sent",
    ),
    path(
        "auth/password/reset/<uidb64>/<token>/",
        password.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # Email change: the emailed links (confirm at the new address, undo at the old one)
    path(
        "auth/email/confirm/<str:token>/", email.email_change_confirm, name="email_change_confirm"
    ),
    path("auth/email/undo/<str:token>/", email.email_change_undo, name="email_change_undo"),
    path("auth/password-strength/", password.strength_view, name="password_strength"),
    # Profile > Settings
    path("settings/", settings.settings_index, name="settings"),
    path("settings/security/", settings.security_tab, name="settings_security"),
    path("settings/security/password/", settings.password_change, name="settings_password"),
    path("settings/security/email/", email.email_change, name="settings_email"),
]
