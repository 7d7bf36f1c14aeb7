"""The control page of `make bench-http`: the signed-in user's name and a few rows, no
panel middleware, no panel template."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

PAGE = engines["django"].from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Control</title></head>
<body><h1>Hello, {{ user.full_name|default:user.username }}</h1>
<table>{% for row in rows %}<tr><td>{{ row.0 }}</td><td>{{ row.1 }}</td></tr>{% endfor %}</table>
</body></html>"""
)


def page(request):
    rows = [(f"row {n}", request.user.email) for n in range(5)]
    return HttpResponse(PAGE.render({"user": request.user, "rows": rows}, request))


urlpatterns = [path("control/", page)]
