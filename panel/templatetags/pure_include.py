"""``{% include_pure "name.html" key=value ... %}``: ``{% include "name.html" with
key=value only %}`` for a partial whose output depends on nothing but those values,
rendered once per distinct values and kept for the process.

A section such as the Security tab's two-factor card has a handful of states (on or off,
the codes left, a passkey or not) and is the same markup for every account in the same
state; through the template engine each view paid its tags and lookups again. Here the
first render of a state is kept, keyed on the values and on what its ``{% url %}`` paths
depend on (``cached_url.url_base``: the URLconf, the script prefix, the current
application). The partial sees only the given values, as with ``only`` (no ``user``, no
``request`` variable, no CSRF token: a partial with a form is not pure), so nothing else
can change its output; a value must be hashable once frozen (dicts, lists and tuples are
frozen item by item), else the partial is rendered each time, as ``{% include %}`` does.

What a value shows that changes with time ("5 minutes ago") or the viewer's time zone
must be passed as text already made, so that it is part of the key. Kept per parsed
template (the cached loader holds them for the process; a reload starts afresh), at
most ``LIMIT`` states each: when full it starts again (per-account states such as a
passkey list would otherwise fill it for good).
"""

from __future__ import annotations

from django import template
from django.template.base import token_kwargs

from .cached_url import url_base

register = template.Library()

LIMIT = 512  # distinct states kept per tag: a handful in practice


def frozen(value):
    """``value`` as a hashable key: dicts and sequences item by item."""
    if isinstance(value, dict):
        return ("dict", tuple((k, frozen(v)) for k, v in sorted(value.items())))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(frozen(v) for v in value))
    hash(value)  # TypeError for what cannot be a key
    return value


class PureIncludeNode(template.Node):
    def __init__(self, name: str, extra: dict) -> None:
        self.name = name
        self.extra = extra
        self.kept: dict = {}

    def render(self, context) -> str:
        values = {key: value.resolve(context) for key, value in self.extra.items()}
        try:
            key = (url_base(getattr(context, "request", None)), frozen(values))
        except TypeError:
            key = None  # not hashable: rendered each time
        html = self.kept.get(key) if key is not None else None
        if html is None:
            partial = context.template.engine.get_template(self.name)
            html = partial.render(context.new(values))
            if key is not None:
                if len(self.kept) >= LIMIT:
                    self.kept.clear()  # the common states come back at once
                self.kept[key] = html
        return html


@register.tag
def include_pure(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "'\"" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes a template name in quotes, then key=value pairs"
        )
    extra = token_kwargs(bits[2:], parser, support_legacy=False)
    if len(extra) != len(bits) - 2:
        raise template.TemplateSyntaxError(f"{bits[0]}: only key=value pairs after the name")
    return PureIncludeNode(bits[1][1:-1], extra)
