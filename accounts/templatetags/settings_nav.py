"""``{% settings_nav settings_tabs %}``: the tab strip of Profile > Settings."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def settings_nav(tabs: list[dict]) -> str:
    """The links of ``accounts.tabs.settings_tabs``, the active one marked for screen
    readers and styles. Built in Python, not a template loop: every settings page shows
    it, and the loop cost about 4% of the Security tab's instructions (cachegrind). Each
    text is escaped (``html.escape``, which Django's ``escape`` is)."""
    links = "".join(
        f'\n  <a href="{escape(tab["url"])}"'
        + (' aria-current="page" class="active"' if tab["active"] else "")
        + f">{escape(tab['label'])}</a>"
        for tab in tabs
    )
    return mark_safe(f'<nav class="tabs" aria-label="Settings">{links}\n</nav>')  # noqa: S308
