"""``{% url %}`` with the answers of constant names kept: a template builtin
(``TEMPLATES["OPTIONS"]["builtins"]``) that replaces Django's tag everywhere.

Every page's header reverses the same few argument-less names (home, dashboard, settings,
sign out): a reverse walks the resolver each time, about a tenth of a signed-in page's
template time. A ``{% url 'name' %}`` with a literal name, no arguments and no ``as`` is
the same string for as long as the URLconf, the script prefix and the current
application namespace are the same: those make the key. Everything else is Django's tag
unchanged (an unknown name still raises ``NoReverseMatch``).
"""

from __future__ import annotations

from django.conf import settings
from django.template import Library
from django.template.defaulttags import URLNode, url as django_url
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

_found: dict[tuple, str] = {}
_LIMIT = 4096  # distinct (name, urlconf, prefix, namespace): a handful in practice


class CachedURLNode(URLNode):
    def render(self, context):
        name = self.view_name.var
        if (
            self.args
            or self.kwargs
            or self.asvar
            or self.view_name.filters
            or not isinstance(name, str)
        ):
            return super().render(context)
        url = cached_reverse(str(name), getattr(context, "request", None))
        return conditional_escape(url) if context.autoescape else url


def url_base(request=None) -> tuple:
    """What a reversed path depends on besides its name: the URLconf, the script prefix
    and the current application namespace (``request``'s, as ``{% url %}`` takes it).
    Work out once for several reverses in a row.

    Kept on ``request`` once its URL is resolved (the URLconf and the script prefix are
    settled for the rest of the request then): reading the URLconf and the prefix goes
    through asgiref's ``Local`` twice, about 30,000 instructions, and a page asks ten
    times. A new resolution (another ``resolver_match``) or another ``current_app``
    works it out again."""
    current_app = getattr(request, "current_app", None)
    match = getattr(request, "resolver_match", None)
    if current_app is None:
        current_app = getattr(match, "namespace", None)
    if match is not None:
        kept = request.__dict__.get(_KEPT)
        if kept is not None and kept[0] is match and kept[1][2] == current_app:
            return kept[1]
    base = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), current_app)
    if match is not None:
        request.__dict__[_KEPT] = (match, base)
    return base


_KEPT = "_panel_url_base"  # on the request: (its resolver_match, the url_base)


def cached_reverse(name: str, request=None, *, base: tuple | None = None) -> str:
    """``reverse(name)`` for a name without arguments, kept per ``url_base``."""
    base = base or url_base(request)
    return _kept(("", name, base), lambda: reverse(name, current_app=base[2]))


def _kept(key: tuple, make):
    """``_found[key]``, made by ``make()`` the first time (kept while under the limit)."""
    found = _found.get(key)
    if found is None:
        found = make()
        if len(_found) < _LIMIT:
            _found[key] = found
    return found


# Stands for the pk in a path reversed once: the last number of the reversed path.
_MARKER = 2147483647


def cached_reverse_with_pk(name: str, pk: int, request=None, *, base: tuple | None = None) -> str:
    """``reverse(name, args=[pk])`` for a name whose only argument is an integer pk: the
    path reversed once with a marker number, the pk put in its place."""
    head, _, tail = cached_reverse_pattern(name, request, base=base)
    return f"{head}{int(pk)}{tail}"


def cached_reverse_pattern(
    name: str, request=None, *, base: tuple | None = None
) -> tuple[str, str, str]:
    """``(head, marker, tail)``: ``f"{head}{pk}{tail}"`` is ``reverse(name, args=[pk])``
    for an integer pk (a list reverses once, then builds each row's path)."""
    base = base or url_base(request)
    return _kept(
        ("pk", name, base),
        lambda: reverse(name, args=[_MARKER], current_app=base[2]).rpartition(str(_MARKER)),
    )


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


def clear() -> None:
    _found.clear()
