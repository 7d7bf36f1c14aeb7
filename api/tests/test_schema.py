"""/api/schema/ and /api/docs/: the OpenAPI 3 document describes both auth schemes and the
error body; Swagger UI is served from our own static files (no CDN)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_with_both_auth_schemes_and_the_error_body(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    schemes = doc["components"]["securitySchemes"]
    assert (
        schemes["apiKey"]["scheme"] == "bearer" and schemes["accessToken"]["bearerFormat"] == "JWT"
    )
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
    domains = doc["paths"]["/api/v1/domains"]
    for operation in domains.values():
        assert {"apiKey": []} in operation["security"]
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    for path in ("/api/v1/domains/{domain_id}", "/api/v1/members", "/api/v1/audit"):
        assert path in doc["paths"]


def test_swagger_ui_is_served_from_our_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "<script>" not in html and "<style>" not in html  # CSP: no inline code
    assert any("swagger-ui-bundle.js" in s for s in sources)
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
