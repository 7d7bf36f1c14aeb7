"""The ``{% url %}`` builtin (panel.templatetags.cached_url) answers as Django's tag does,
and reverses a constant name once."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse, set_script_prefix

from panel.templatetags import cached_url


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.fixture(autouse=True)
def fresh():
    cached_url.clear()
    yield
    cached_url.clear()
    set_script_prefix("/")


def test_constant_names_are_reversed_once(monkeypatch):
    calls = []
    real = cached_url.reverse
    monkeypatch.setattr(cached_url, "reverse", lambda *a, **k: calls.append(a) or real(*a, **k))
    first = render("{% url 'dashboard' %}")
    second = render("{% url 'dashboard' %}")
    assert first == second == reverse("dashboard")
    assert len(calls) == 1


def test_arguments_variables_and_as_are_djangos_tag():
    assert render("{% url 'teams:team' 7 %}") == reverse("teams:team", args=[7])
    assert render("{% url name %}", name="dashboard") == reverse("dashboard")
    assert render("{% url 'dashboard' as where %}[{{ where }}]") == f"[{reverse('dashboard')}]"
    assert render("{% url 'nope' as where %}[{{ where }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'nope' %}")


def test_the_script_prefix_is_part_of_the_key():
    assert render("{% url 'dashboard' %}") == "/dashboard/"
    set_script_prefix("/panel/")
    assert render("{% url 'dashboard' %}") == "/panel/dashboard/"


def test_pages_use_it():
    request = RequestFactory().get("/")
    template = engines["django"].from_string("{% url 'home' %}")
    assert template.render({}, request) == reverse("home")
    node = template.template.nodelist[0]
    assert isinstance(node, cached_url.CachedURLNode)


@pytest.mark.parametrize("pk", [1, 7, 42, 2147483647, 10**12])
def test_a_pk_path_is_the_reversed_path(pk):
    for name in ("teams:team", "security:device_forget", "security:session_revoke"):
        assert cached_url.cached_reverse_with_pk(name, pk) == reverse(name, args=[pk])
    set_script_prefix("/panel/")
    assert cached_url.cached_reverse_with_pk("teams:team", pk) == f"/panel/teams/{pk}/"


def test_the_static_tag_answers_as_djangos_and_asks_the_storage_once(monkeypatch, settings):
    from django.templatetags.static import static as django_static

    from panel.templatetags import chrome

    chrome._static.clear()
    expected = f"{django_static('panel/css/panel.css')}|{django_static('x y.png')}"
    calls = []
    real = chrome.StaticNode.handle_simple.__func__
    monkeypatch.setattr(
        chrome.StaticNode,
        "handle_simple",
        classmethod(lambda cls, path: calls.append(path) or real(cls, path)),
    )
    source = (
        "{% load chrome %}{% static 'panel/css/panel.css' %}|{% static 'x y.png' as u %}{{ u }}"
    )
    first, second = render(source), render(source)
    assert first == second == expected
    assert calls == ["panel/css/panel.css", "x y.png"]
    settings.STATIC_URL = "/elsewhere/"  # a changed setting empties what was kept
    assert render(source).startswith("/elsewhere/panel/css/panel.css|")


def test_the_base_is_kept_on_a_resolved_request_until_its_resolution_changes(monkeypatch):
    from django.urls import resolve

    calls = []
    real = cached_url.get_urlconf
    monkeypatch.setattr(cached_url, "get_urlconf", lambda: calls.append(1) or real())
    request = RequestFactory().get("/settings/security/")
    assert cached_url.url_base(request) == cached_url.url_base(request)  # not resolved yet
    assert len(calls) == 2  # worked out each time
    request.resolver_match = resolve("/settings/security/")
    first = cached_url.url_base(request)
    assert cached_url.url_base(request) is first and len(calls) == 3  # kept
    assert first[2] == "accounts"
    request.resolver_match = resolve("/teams/switch/")  # resolved again: worked out again
    assert cached_url.url_base(request)[2] == "teams" and len(calls) == 4
    request.current_app = "admin"  # as {% url %} takes it: the request's own first
    assert cached_url.url_base(request)[2] == "admin" and len(calls) == 5
