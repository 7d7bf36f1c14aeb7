"""The Compose stack runs several `web` replicas behind one address (docs/deploy.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def compose_config() -> dict:
    binary = Path(sys.executable).parent / "docker-compose"
    output = subprocess.run(
        [str(binary), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=BASE_DIR,
        env={**os.environ, "SECRET_KEY": "x" * 50, "ENCRYPTION_KEYS": "compose-test"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def test_web_replicas_publish_no_host_port_so_they_can_scale_behind_the_proxy():
    services = compose_config()["services"]
    assert not services["web"].get("ports")
    assert [p["published"] for p in services["proxy"]["ports"]] == ["8000"]
    [mount] = services["proxy"]["volumes"]
    assert Path(mount["source"]) == BASE_DIR / "deploy" / "nginx" / "panel.conf"
    conf = (BASE_DIR / "deploy" / "nginx" / "panel.conf").read_text()
    assert "server web:8000;" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf


def test_the_stack_counts_the_proxy_in_front_of_web():
    env = compose_config()["services"]["web"]["environment"]
    assert env["TRUSTED_PROXY_COUNT"] == "1"


def test_web_gets_the_metrics_token_and_writes_the_fail2ban_log_to_a_volume(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "from-the-environment")
    monkeypatch.delenv("FAIL2BAN_LOG", raising=False)
    config = compose_config()
    web = config["services"]["web"]
    assert web["environment"]["METRICS_TOKEN"] == "from-the-environment"
    log = web["environment"]["FAIL2BAN_LOG"]
    [volume] = [v for v in web["volumes"] if v["source"] == "auth-log"]
    assert log.startswith(volume["target"] + "/")
    assert "auth-log" in config["volumes"]
    # The rest of the shared environment is still there.
    assert web["environment"]["DJANGO_SETTINGS_MODULE"] == "panel.settings.prod"
    # The image makes the log's directory writable by its user (a new volume copies it).
    assert (
        "mkdir -p /app/var/log && chown -R panel /app/var" in (BASE_DIR / "Dockerfile").read_text()
    )
    # Without METRICS_TOKEN the variable is empty: /metrics answers 404.
    monkeypatch.delenv("METRICS_TOKEN")
    assert compose_config()["services"]["web"]["environment"]["METRICS_TOKEN"] == ""
