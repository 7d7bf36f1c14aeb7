"""The bare-Django control of `make bench` (c): one view, no templates, no database.

Served with Django's default middleware only (bench/run.py sets MIDDLEWARE and
ROOT_URLCONF with override_settings), so panel/bare ratios show what the panel's own
middleware, templates and queries add to a request.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def signed_in(request: HttpRequest) -> HttpResponse:
    # Touching request.user loads the session and the user: the two queries any
    # signed-in Django page pays before doing anything of its own.
    return HttpResponse(f"ok {request.user.pk}")


urlpatterns = [
    path("", ok),
    path("me/", signed_in),
]
