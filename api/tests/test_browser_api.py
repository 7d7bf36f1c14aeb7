"""In Chromium: an Owner opens Settings > API Keys, confirms it's them, creates a scoped
key, copies it from the page (shown once), uses it over HTTP, revokes it; Swagger UI
loads at /api/docs/ from our own static files under the panel's CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from security.tests.twofactor.test_browser_2fa import shot, sign_in
from teams import catalog, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_get(page: Page, base: str, path: str, key: str) -> int:
    """A GET with the key, from the browser's context: its session cookie goes along and
    must not matter (the API takes only the Bearer header)."""
    response = page.request.get(base + path, headers={"Authorization": f"Bearer {key}"})
    body = response.json()
    assert response.ok or set(body["error"]) == {"code", "message"}
    return response.status


def test_an_owner_creates_uses_and_revokes_an_api_key(
    live_server, page: Page, user_factory, password, settings
):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    catalog.ensure()
    owner = user_factory("olivia", email="olivia@example.com", full_name="Olivia Owner")
    services.team_create(name="Acme", owner=owner)
    base = live_server.url

    sign_in(page, base, "olivia", password)
    expect(page).to_have_url(base + "/dashboard/")
    page.goto(base + "/settings/api-keys/")
    expect(page.get_by_role("link", name="API Keys")).to_be_visible()
    expect(page.get_by_text("You have no API keys.")).to_be_visible()
    page.get_by_role("link", name="Create API key").click()
    # Creating needs a fresh step-up: the sign-in a moment ago counts (security.stepup);
    # api/tests/test_keys.py shows a stale one sent to "Confirm it's you".
    expect(page.get_by_role("heading", name="Create an API key")).to_be_visible()
    page.get_by_label("Name").fill("Monitoring script")
    page.get_by_label("domains:read").check()
    page.get_by_label("Expires after").select_option("30")
    shot(page, "api_key_form")
    page.get_by_role("button", name="Create").click()
    expect(
        page.get_by_role("heading", name="Copy your new key “Monitoring script”")
    ).to_be_visible()
    key = page.get_by_label("API key").input_value()
    assert key.startswith("pnl_") and len(key) == 47
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # the script ran (CSP)
    shot(page, "api_key_created")

    assert api_get(page, base, "/api/v1/domains", key) == 200
    assert api_get(page, base, "/api/v1/members", key) == 403  # no members:read scope

    page.get_by_role("link", name="I have copied the key").click()
    row = page.get_by_role("row", name="Monitoring script")
    expect(row).to_contain_text(key[:12])
    expect(row).not_to_contain_text(key[12:])
    shot(page, "api_keys_list")
    row.get_by_role("button", name="Revoke Monitoring script").click()
    expect(page.get_by_text("was revoked")).to_be_visible()
    expect(page.get_by_role("row", name="Monitoring script")).to_contain_text("Revoked")
    assert api_get(page, base, "/api/v1/domains", key) == 401

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Panel API")
    expect(page.get_by_text("/api/v1/domains").first).to_be_visible()
    shot(page, "api_docs")
    assert not [e for e in errors if "Content Security Policy" in e], errors
