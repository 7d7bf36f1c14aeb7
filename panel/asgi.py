import os

from django.core.asgi import get_asgi_application

# Servers and workers default to production (DEBUG off, secrets required);
# `manage.py` defaults to dev for `make run`.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings.prod")
application = get_asgi_application()
