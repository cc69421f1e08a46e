"""The HTML of a diff's segments and rows, for the templates (filters `diff_segments`,
`diff_inline_rows`, `diff_unchanged_rows`, `diff_side_rows`; diffmacros.html).

Changes pages hold hundreds of thousands of segments; template macros per segment list, then per
row and per cell, were the costliest part of rendering them. Segment text is untrusted: it is
always escaped here."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from markupsafe import Markup, escape

from .diffmodel import Row, Segment
from .markup import without_bidi_controls, written_breaks

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
    readers; unchanged text as it is, but for a `<br>` written in it, shown as a line break.
    Languages (language.py), for a text not in the site's: `ui` marks the prefixes as the site's
    language, `old` the deleted text as the previous version's when it differs from the text
    around it."""
    wraps = _wraps(ui, old)
    parts = []
    for segment in segments:
        text = written_breaks(escape(without_bidi_controls(segment.text)))
        wrap = wraps.get(segment.op)
        parts.append(f"{wrap[0]}{text}{wrap[1]}" if wrap else text)
    return Markup("".join(parts))


# The rows of a changes page, for diffmacros.html. Template macros per row and per cell took half of
# a full build's page rendering (a changes page holds the whole text, its unchanged paragraphs
# folded): the same HTML, byte for byte, is written here in one pass.
# `langs`: None, or a mapping with ui (the site's language), old and new (what each version's text
# reads as, "" when not known); `labels`: old / new (in a sentence) and old_head / new_head.
Langs = Mapping[str, str] | None


def _text(segments: Iterable[Segment], tag: str | None, langs: Langs, old_inside: bool = False) -> str:
    """A paragraph or run of them: the text in the site's language unless marked with another; the
    read-out prefixes in the site's language wherever the text around them has another."""
    if not langs:
        return f'<div class="diff-text">{diff_segments(segments)}</div>'
    ui = langs["ui"]
    old = langs["old"] if old_inside and langs["old"] != tag else None
    marked = tag != ui or (old is not None and old != ui)
    lang = f' lang="{escape(tag)}"' if tag != ui else ""
    return f'<div class="diff-text"{lang}>{diff_segments(segments, ui if marked else None, old)}</div>'


def _moved_note(row: Row) -> str:
    if not row.moved:
        return ""
    where = "Moved, unchanged, to" if row.kind == "delete" else "Moved here, unchanged, from"
    return f'<p class="diff-moved">{where}  <a href="#change-{row.moved}">change {row.moved}</a>.</p>'


def _number(n: int | None) -> str:
    return (f'<span class="diff-num"><span aria-hidden="true">¶</span><span class="diff-vh">paragraph</span>'
            f" {n}</span>")


def inline_rows(rows: Iterable[Row], langs: Langs = None) -> Markup:
    """One text with insertions and deletions."""
    parts = ['<div class="diff-inline">']
    for row in rows:
        tag = (langs["old"] if row.kind == "delete" else langs["new"]) if langs else None
        parts.append(f'<div class="diff-row diff-row-{row.kind}">{_moved_note(row)}'
                     f'{_text(row.inline, tag, langs, row.kind != "delete")}</div>')
    parts.append("</div>")
    return Markup("".join(parts))


def unchanged_rows(rows: Iterable[Row], langs: Langs = None) -> Markup:
    """Unchanged text, once for both views."""
    tag = langs["new"] if langs else None
    texts = "".join(_text(row.inline, tag, langs) for row in rows)
    return Markup(f'<div class="diff-unchanged">{texts}</div>')


def _cell(segments: tuple[Segment, ...], first: int | None, note: str, tag: str | None, langs: Langs,
          head: str, missing: str) -> str:
    if not segments:
        return (f'<td class="diff-none" data-label="{head}"><span aria-hidden="true">—</span>'
                f'<span class="diff-vh">not in {missing}</span></td>')
    return f'<td data-label="{head}">{_number(first)}{note}{_text(segments, tag, langs)}</td>'


def side_rows(rows: Iterable[Row], labels: Mapping[str, str], visible_head: bool = False,
              langs: Langs = None) -> Markup:
    """Old | new, one table row per aligned paragraph (or run of paragraphs)."""
    old_head, new_head = escape(labels["old_head"]), escape(labels["new_head"])
    old_missing, new_missing = escape(labels["old"]), escape(labels["new"])
    old_tag, new_tag = (langs["old"], langs["new"]) if langs else (None, None)
    head_class = "" if visible_head else ' class="diff-vh"'
    parts = ['<div class="diff-side">\n<table>\n'
             '<colgroup><col class="diff-col"><col class="diff-col"></colgroup>\n'
             f'<thead{head_class}><tr><th scope="col">{old_head}</th><th scope="col">{new_head}</th></tr>'
             "</thead>\n<tbody>"]
    for row in rows:
        note = _moved_note(row)
        old = _cell(row.old, row.old_first, note if row.kind == "delete" else "", old_tag, langs, old_head,
                    old_missing)
        new = _cell(row.new, row.new_first, note if row.kind == "insert" else "", new_tag, langs, new_head,
                    new_missing)
        parts.append(f'<tr class="diff-row-{row.kind}">  {old}  {new}</tr>')
    parts.append("</tbody>\n</table>\n</div>")
    return Markup("".join(parts))
