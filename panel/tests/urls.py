"""URLs for the panel's own tests: the real ones plus views that fail on purpose."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import include, path

from panel.urls import handler400, handler403, handler404, handler500  # noqa: F401


@login_not_required
def boom(request):
    raise RuntimeError("secret internal detail: /srv/panel/settings.py line 42")


@login_not_required
def forbidden(request):
    raise PermissionDenied


@login_not_required
def database_down(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


urlpatterns = [
    path("test/boom/", boom),
    path("test/database-down/", database_down),
    path("test/forbidden/", forbidden),
    path("", include("panel.urls")),
]
