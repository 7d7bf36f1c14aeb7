"""The device icon of the Sessions tab and the Security tab's trusted devices (a tag, not
an include per row)."""

from __future__ import annotations

from django.template import Context, Template

from security.templatetags.security_sessions import DESKTOP_ICON, HANDHELD_ICON


def render(kind: str) -> str:
    template = Template("{% load security_sessions %}{% device_icon kind %}")
    return template.render(Context({"kind": kind}))


def test_phones_and_tablets_get_the_handheld_icon_and_the_rest_a_screen():
    assert HANDHELD_ICON != DESKTOP_ICON
    assert render("mobile") == render("tablet") == HANDHELD_ICON
    for kind in ("desktop", "bot", "other", ""):
        assert render(kind) == DESKTOP_ICON
    # Rendered as markup, not escaped, and hidden from screen readers.
    assert render("mobile").startswith('<svg class="device-icon"')
    assert 'aria-hidden="true"' in render("desktop")
