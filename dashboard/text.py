"""Text from artifacts, logs, git and links, made safe for Streamlit's Markdown sinks.

`md` lives here, apart from the drawing helpers, so that every dashboard module (the URL controls
included) can use it without an import cycle; `widgets.md` is the same function.
"""

from __future__ import annotations

import re

from healthdeck.reports.render.md import with_code_spans
from healthdeck.reports.visible import visible

# Every ASCII punctuation mark may be backslash-escaped in Markdown: escaping them all leaves no syntax.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Streamlit finds links, e-mail addresses, icons (:material/x:), emoji (:x:) and colours (:green[x]) in
# the text *after* escapes are resolved, so a zero-width space has to break each of those sequences.
_ZWSP = "\u200b"
_AFTER_ESCAPES = re.compile(r"(?i)(\\:|\\@)(?=\S)|(?<![\w\u200b])(w)(?=ww\\\.)")
_ICON_IN_CODE = re.compile(r":(?=material/)")


def md(value: object, *, code: bool = False, limit: int | None = None) -> str:
    """Text from an artifact, a log or git, made safe for any Streamlit Markdown sink.

    Prose is shown literally (every Markdown special escaped, links and shortcodes broken); with
    `code=True` it is an inline code span, which suits identifiers (test ids, rules, etags, branches).
    Terminal escapes and control characters go, line breaks become spaces (a heading or list cannot
    start), and `limit` shortens the text before escaping so an escape is never cut in half.
    """
    text = " ".join(visible(str(value)).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if code:
        text = _ICON_IN_CODE.sub(":" + _ZWSP, text)
        fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    return _AFTER_ESCAPES.sub(
        lambda m: (m[1] + _ZWSP) if m[1] else m[2] + _ZWSP, _PUNCTUATION.sub(r"\\\1", text)
    )


def md_prose(value: object, *, limit: int | None = None) -> str:
    """healthdeck's own wording (a condition's detail): its `...` spans (commands, config keys) shown as
    code, the rest as `md` shows prose. With an odd number of backticks (a value holding one, or a cut
    through a span) no span can be trusted, and all of it is prose."""
    text = " ".join(str(value).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return with_code_spans(text, md, lambda part: md(part, code=True))
