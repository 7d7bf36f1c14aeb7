from django.urls import path  # noqa: F401

app_name = "security"

# Two-factor authentication: enrollment, backup codes, the sign-in step.
twofactor_urlpatterns: list = []

# Sessions tab, trusted devices, new-device approval, suspicious sign-ins.
sessions_urlpatterns: list = []

urlpatterns = twofactor_urlpatterns + sessions_urlpatterns
