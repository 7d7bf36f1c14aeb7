"""The tab strip of Profile > Settings, built in Python (accounts.templatetags.settings_nav)."""

from __future__ import annotations

from django.template import engines

from accounts.tabs import settings_tabs
from accounts.templatetags.settings_nav import settings_nav


def test_the_active_tab_is_marked_and_each_text_is_escaped():
    tabs = [
        {"url": "/settings/a/?x=1&y=<2>", "label": "A & <b>", "active": False},
        {"url": "/settings/b/", "label": "B", "active": True},
    ]

    nav = settings_nav(tabs)

    assert nav == (
        '<nav class="tabs" aria-label="Settings">\n'
        '  <a href="/settings/a/?x=1&amp;y=&lt;2&gt;">A &amp; &lt;b&gt;</a>\n'
        '  <a href="/settings/b/" aria-current="page" class="active">B</a>\n'
        "</nav>"
    )


def test_it_is_what_the_template_loop_rendered():
    loop = engines["django"].from_string(
        '<nav class="tabs" aria-label="Settings">{% for tab in settings_tabs %}\n'
        '  <a href="{{ tab.url }}"{% if tab.active %} aria-current="page" class="active"'
        "{% endif %}>{{ tab.label }}</a>{% endfor %}\n</nav>"
    )
    tabs = settings_tabs("sessions")

    assert settings_nav(tabs) == loop.render({"settings_tabs": tabs})
    assert 'href="/settings/sessions/" aria-current="page"' in settings_nav(tabs)
