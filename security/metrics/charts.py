"""Server-drawn SVG charts (pygal), embedded as data: URIs (allowed by the panel's CSP:
``img-src 'self' data:``; no script, no CDN). Sized in the SVG's viewBox and scaled by
CSS to the card, with large fonts so that a 390 px screen still reads them."""

from __future__ import annotations

import base64
import re

import pygal
from pygal.style import Style

# Colours of the levels (also in panel.css): ok green, warning amber, critical red.
COLOURS = {"ok": "#1e7d3a", "warning": "#b26a00", "critical": "#c62828", "line": "#2563eb"}

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b2330",
    foreground_strong="#1b2330",
    foreground_subtle="#c4cbd6",
    colors=(COLOURS["line"], COLOURS["warning"], COLOURS["critical"], COLOURS["ok"]),
    font_family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif",
    label_font_size=18,
    major_label_font_size=18,
    value_font_size=18,
    legend_font_size=18,
    title_font_size=20,
    tooltip_font_size=16,
)
COMMON = {
    "style": STYLE,
    "width": 640,
    "height": 360,
    "js": [],
    "disable_xml_declaration": True,
    "show_legend": True,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "margin": 8,
    "dots_size": 3,
    "truncate_label": -1,
    "truncate_legend": -1,
}


_SCRIPT = re.compile(rb"<script\b.*?</script>", re.S)


def data_uri(svg: bytes | str) -> str:
    """The SVG as an image URL. pygal adds a config <script> even with ``js=[]``; an image
    never runs it, and it is dropped anyway."""
    raw = svg.encode() if isinstance(svg, str) else svg
    raw = _SCRIPT.sub(b"", raw)
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode()


def line(
    *,
    title: str,
    labels: list[str],
    values: list[float | None],
    warning: float | None = None,
    critical: float | None = None,
    target: float | None = None,
    unit: str = "",
) -> str:
    chart = pygal.Line(
        title=title,
        x_labels=labels,
        x_labels_major_every=max(1, len(labels) // 6),
        show_minor_x_labels=False,
        allow_interruptions=True,
        range=(0, 100) if unit == "%" else None,
        **COMMON,
    )
    chart.add(title, values)
    flat = [v for v in values if v is not None]
    if target is not None:
        chart.add(f"target {target:g}{unit}", [target] * len(labels), show_dots=False)
    if warning is not None:
        chart.add(f"warning {warning:g}{unit}", [warning] * len(labels), show_dots=False)
    if critical is not None:
        chart.add(f"critical {critical:g}{unit}", [critical] * len(labels), show_dots=False)
    if not flat and target is None and warning is None:
        chart.add("no data", [0] * len(labels), show_dots=False)
    return data_uri(chart.render())


def bars(*, title: str, items: list[tuple[str, int]], warning: float, critical: float) -> str:
    chart = pygal.HorizontalBar(title=title, print_values=True, **COMMON)
    chart.show_legend = False
    for label, value in items:
        colour = (
            COLOURS["critical"]
            if value > critical
            else COLOURS["warning"]
            if value > warning
            else COLOURS["ok"]
        )
        chart.add(label, [{"value": value, "color": colour}])
    if not items:
        chart.add("none", [0])
    return data_uri(chart.render())
