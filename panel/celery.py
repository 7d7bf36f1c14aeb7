"""The Celery application. Workers: `celery -A panel worker`; periodic tasks: `celery -A panel beat`."""

import os

from celery import Celery

# Servers and workers default to production (DEBUG off, secrets required);
# `manage.py` defaults to dev for `make run`.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings.prod")

app = Celery("panel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
