from django.contrib import admin
from django.urls import include, path

from . import health, views

handler400 = "panel.views.bad_request"
handler403 = "panel.views.permission_denied"
handler404 = "panel.views.page_not_found"
handler500 = "panel.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("health/", health.health, name="health"),
    path("", include("accounts.urls")),
    path("", include("security.urls")),
    path("", include("teams.urls")),
    path("", include("api.urls")),
    path("admin/", admin.site.urls),
]
