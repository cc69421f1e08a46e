"""The inner HTML of a diff's segments, for the templates (filter `diff_segments`).

Changes pages hold hundreds of thousands of segments; a template macro per segment list was the
costliest part of rendering them. Segment text is untrusted: it is always escaped here."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape

from .diffmodel import Segment
from .markup import without_bidi_controls

_PREFIX = {"insert": ("ins", "inserted: "), "delete": ("del", "deleted: ")}


def _lang(tag: str | None) -> str:
    return "" if tag is None else f' lang="{escape(tag)}"'


@functools.cache  # a changes page calls the filter once a row: the few language pairs, made once
def _wraps(ui: str | None, old: str | None) -> dict[str, tuple[str, str]]:
    return {op: (f'<{tag}{_lang(old) if op == "delete" else ""}>'
                 f'<span class="diff-vh"{_lang(ui)}>{prefix}</span>', f"</{tag}>")
            for op, (tag, prefix) in _PREFIX.items()}


def diff_segments(segments: Iterable[Segment], ui: str | None = None, old: str | None = None) -> Markup:
    """Inserted text in <ins>, deleted in <del>, each with a visually hidden prefix for screen
    readers; unchanged text as it is. Languages (language.py), for a text not in the site's: `ui`
    marks the prefixes as the site's language, `old` the deleted text as the previous version's
    when it differs from the text around it."""
    wraps = _wraps(ui, old)
    parts = []
    for segment in segments:
        text = escape(without_bidi_controls(segment.text))
        wrap = wraps.get(segment.op)
        parts.append(f"{wrap[0]}{text}{wrap[1]}" if wrap else str(text))
    return Markup("".join(parts))
