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
