"""Badges: a self-contained flat SVG (no network, no font files) and a shields.io endpoint JSON."""

from __future__ import annotations

import json

from ..visible import visible

COLORS = {"green": "#2da44e", "yellow": "#d4a72c", "red": "#cf222e", "grey": "#6e7781"}
_CHAR_WIDTH = 6.6  # average glyph width of 11 px Verdana; close enough for short labels


def escape(text: str) -> str:
    """Text for XML content and attributes, as html.escape makes it (importing `html` loads its whole
    entity table; xml.sax.saxutils imports urllib.request)."""
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        text = text.replace(raw, entity)
    return text


def color_for(value: float | None, thresholds: tuple[float, float]) -> str:
    if value is None:
        return "grey"
    green, yellow = thresholds
    return "green" if value >= green else "yellow" if value >= yellow else "red"


def _shown(text: str) -> str:
    """A badge's text as it reads: a suite name comes from an artifact, and a control character in it is
    no XML at all, a direction override would make the badge read as another one."""
    return visible(" ".join(text.split()))


def svg(label: str, message: str, color: str) -> str:
    label, message = _shown(label), _shown(message)
    lw = int(len(label) * _CHAR_WIDTH + 12)
    mw = int(len(message) * _CHAR_WIDTH + 12)
    label, message = escape(label), escape(message)
    fill = COLORS[color]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + mw}" height="20" role="img" '
        f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{lw + mw}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{fill}"/><rect width="{lw + mw}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14">{label}</text><text x="{lw + mw / 2}" y="14">{message}</text></g></svg>\n'
    )


def endpoint(label: str, message: str, color: str) -> str:
    """shields.io endpoint badge JSON (https://shields.io/badges/endpoint-badge)."""
    return (
        json.dumps(
            {
                "schemaVersion": 1,
                "label": _shown(label),
                "message": _shown(message),
                "color": COLORS[color].lstrip("#"),
            }
        )
        + "\n"
    )
