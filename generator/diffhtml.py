"""The inner HTML of a diff's segments, for the templates (filter `diff_segments`).

Changes pages hold hundreds of thousands of segments; a template macro per segment list was the
costliest part of rendering them. Segment text is untrusted: it is always escaped here."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from .diffmodel import Segment

_WRAP = {
    "insert": ('<ins><span class="diff-vh">inserted: </span>', "</ins>"),
    "delete": ('<del><span class="diff-vh">deleted: </span>', "</del>"),
}


def diff_segments(segments: Iterable[Segment]) -> Markup:
    """Inserted text in <ins>, deleted in <del>, each with a visually hidden prefix for screen
    readers; unchanged text as it is."""
    parts = []
    for segment in segments:
        text = escape(segment.text)
        wrap = _WRAP.get(segment.op)
        parts.append(f"{wrap[0]}{text}{wrap[1]}" if wrap else str(text))
    return Markup("".join(parts))
