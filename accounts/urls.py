from django.urls import path

from .views import auth, settings

app_name = "accounts"

urlpatterns = [
    path("auth/login/", auth.login_view, name="login"),
    path("auth/logout/", auth.logout_view, name="logout"),
    path("settings/", settings.settings_index, name="settings"),
    path("settings/security/", settings.security_tab, name="settings_security"),
]
