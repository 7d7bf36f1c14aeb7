# The panel's image: web (gunicorn), worker and beat (Celery), and the SMTP catcher all
# run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=panel.settings.prod

WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt && pip install aiosmtpd==1.4.6

COPY . .

# collectstatic needs settings but no secrets worth keeping: build-time placeholders.
RUN SECRET_KEY=collectstatic-only-placeholder-not-used-at-runtime-0123456789 \
    ALLOWED_HOSTS=localhost SITE_URL=https://localhost \
    ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LXBsYWNlaG9sZGVyLTA= \
    python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 10001 --home-dir /app panel \
 && mkdir -p /app/var/log && chown -R panel /app/var

USER panel
EXPOSE 8000
CMD ["gunicorn", "-c", "python:panel.gunicorn_conf", "panel.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
