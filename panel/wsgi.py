import os

from django.core.wsgi import get_wsgi_application

# Servers and workers default to production (DEBUG off, secrets required);
# `manage.py` defaults to dev for `make run`.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings.prod")
application = get_wsgi_application()
