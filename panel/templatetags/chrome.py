"""``{% static %}`` that keeps its answers, and ``{% topbar %}``: the header of every
page (brand, main links, team switcher, account menu), built in Python.

Every page renders it: through the template engine it was over a third of the dashboard's
template time (a dozen variable lookups through the lazy user, eight ``{% url %}`` and
two ``{% csrf_token %}``, the switcher's loop). The markup is the one the template had
(panel/tests/templates/topbar_reference.html); ``teams/tests/test_topbar.py`` renders
that template beside this and compares them. Every value is escaped by ``format_html``.
"""

from __future__ import annotations

from django import template
from django.core.signals import setting_changed
from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import StaticNode
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .cached_url import cached_reverse, cached_reverse_with_pk, url_base

register = template.Library()

# path -> URL: the storage's answer for a path is fixed for the process (the manifest of
# hashed names is read once at start), but asking costs a storage call and a URL join.
_static: dict[str, str] = {}


class CachedStaticNode(StaticNode):
    @classmethod
    def handle_simple(cls, path):
        url = _static.get(path)
        if url is None:
            url = super().handle_simple(path)
            if len(_static) < 1024:
                _static[path] = url
        return url


@register.tag("static")
def static(parser, token):
    """``{% static 'path' %}`` as Django's tag, each path's URL kept (base.html's CSS and
    icon are on every page)."""
    return CachedStaticNode.handle_token(parser, token)


def _settings_changed(setting, **kwargs) -> None:
    if setting in ("STATIC_URL", "STATIC_ROOT", "STORAGES", "STATICFILES_STORAGE"):
        _static.clear()


setting_changed.connect(_settings_changed, dispatch_uid="panel.chrome.static")

_BRAND = '<a class="brand" href="{home}"><span class="brand-mark" aria-hidden="true">&#9650;</span> {site}</a>'
_NAV = (
    '<nav class="topnav" aria-label="Main">\n'
    '      <a href="{dashboard}">Dashboard</a>\n'
    "      {team}\n"
    "      {operations}\n"
    "    </nav>"
)
_SWITCH_MANY = (
    '<label for="team-switch">Team</label>\n'
    '      <select name="team" id="team-switch">\n'
    "        {options}\n"
    "      </select>\n"
    '      <button type="submit" class="btn btn-secondary btn-sm">Switch</button>'
)
_SWITCH = (
    '<form method="post" action="{action}" class="teamswitch">\n'
    '      {csrf}<input type="hidden" name="next" value="{next}">\n'
    "      {body}\n"
    "    </form>"
)
_MENU = (
    '<details class="usermenu">\n'
    '      <summary aria-label="Account menu for {name}"><span class="avatar" aria-hidden="true">'
    '{initials}</span><span class="usermenu-name">{name}</span></summary>\n'
    '      <div class="usermenu-panel">\n'
    '        <p class="usermenu-who"><strong>{name}</strong><br><span class="muted">{email}</span></p>\n'
    '        <a href="{settings}">Settings</a>\n'
    "        {admin}\n"
    '        <form method="post" action="{logout}">{csrf}'
    '<button type="submit" class="linklike">Sign out</button></form>\n'
    "      </div>\n"
    "    </details>"
)


@register.simple_tag(takes_context=True)
def topbar(context) -> str:
    request = context.get("request")
    user = context.get("user")
    base = url_base(request)  # once for the eight paths
    parts = [
        format_html(_BRAND, home=cached_reverse("home", base=base), site=context.get("site_name"))
    ]
    if user is not None and user.is_authenticated:
        parts.extend(_signed_in(context, request, user, base))
    return mark_safe(  # noqa: S308 (each part is built by format_html)
        '<header class="topbar">\n    ' + "\n    ".join(parts) + "\n  </header>"
    )


def _signed_in(context, request, user, base: tuple) -> list[str]:
    teams = context.get("teams")
    active = teams.active if teams else None
    superuser = user.is_superuser
    csrf = CsrfTokenNode().render(context)  # what {% csrf_token %} renders, once
    name = user.get_full_name()
    parts = [
        format_html(
            _NAV,
            dashboard=cached_reverse("dashboard", base=base),
            team=format_html(
                '<a href="{}">Team</a>',
                cached_reverse_with_pk("teams:team", active.team.pk, base=base),
            )
            if active
            else "",
            operations=format_html(
                '<a href="{}">Operations</a>', cached_reverse("security:audit_log", base=base)
            )
            if superuser
            else "",
        )
    ]
    if active:
        if len(teams) > 1:
            body = format_html(
                _SWITCH_MANY,
                options=format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    (
                        (
                            found.team.pk,
                            mark_safe(" selected") if found.team.pk == active.team.pk else "",
                            found.team.name,
                        )
                        for found in teams
                    ),
                ),
            )
        else:
            body = format_html("<span>Team <strong>{}</strong></span>", active.team.name)
        parts.append(
            format_html(
                _SWITCH,
                action=cached_reverse("teams:switch", base=base),
                csrf=csrf,
                next=request.get_full_path(),
                body=body,
            )
        )
    parts.append(
        format_html(
            _MENU,
            name=name,
            initials=user.initials,
            email=user.email,
            settings=cached_reverse("accounts:settings", base=base),
            admin=format_html(
                '<a href="{}">Administration</a>', cached_reverse("admin:index", base=base)
            )
            if superuser
            else "",
            logout=cached_reverse("security:logout", base=base),
            csrf=csrf,
        )
    )
    return parts
