"""The tabs of Profile > Settings. Apps register a tab when their feature lands."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from panel.templatetags.cached_url import cached_reverse, url_base


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    url_name: str


_TABS: list[Tab] = [Tab("security", "Security", "accounts:settings_security")]


def register_tab(key: str, label: str, url_name: str) -> None:
    if all(t.key != key for t in _TABS):
        _TABS.append(Tab(key, label, url_name))


def settings_tabs(active: str) -> list[dict]:
    base = url_base()  # worked out once for the tabs (it reads asgiref's Local twice)
    return [
        {
            "key": t.key,
            "label": t.label,
            "url": cached_reverse(t.url_name, base=base),  # reversed once per process
            "active": t.key == active,
        }
        for t in _TABS
    ]


def settings_page(
    request: HttpRequest, tab: str, template: str, context: dict, *, status: int = 200
) -> HttpResponse:
    """A page under Profile > Settings, with ``tab`` marked active."""
    return render(
        request, template, {"settings_tabs": settings_tabs(tab), **context}, status=status
    )
