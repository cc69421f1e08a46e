"""Emphasis that reads back as emphasis: CommonMark opens or closes a delimiter run only by what
surrounds it, so each span of emphasis markup is kept or dropped per paragraph, once its neighbours
are known, never losing the text inside.
"""

from __future__ import annotations

import unicodedata

# Private markers (page text never holds C0 controls) around emphasis markup, settled per paragraph
# once their neighbours are known; "\x0e" and "\x0f" mark code text (see generator.htmlmd).
SENTINELS = {"*": ("\x02", "\x03"), "**": ("\x04", "\x05"), "~~": ("\x06", "\x07")}
_OPENINGS = frozenset(opening for opening, _ in SENTINELS.values())
_MARK_OF = {sentinel: mark for mark, pair in SENTINELS.items() for sentinel in pair}
_NO_SENTINELS = str.maketrans(dict.fromkeys(_MARK_OF))


def emphasis(text: str) -> str:
    """Keep the emphasis markup that CommonMark reads back as emphasis; drop the rest, never the text.

    Delimiters next to punctuation or to other delimiters may fail to open or close, and would
    then show as literal asterisks (`**Acc****ount**` from <b>Acc</b><b>ount</b>).
    """
    for mark, (opening, closing) in SENTINELS.items():  # adjacent spans of one kind are one span
        text = text.replace(f"{mark}{closing}{opening}{mark}", "")
    while True:
        pairs, strays = _emphasis_spans(text)
        unreadable = sorted((o, c) for o, c, mark in pairs if not _readable(text, o, c, len(mark)))
        # the innermost first: a span is often unreadable only because of the one inside it
        doomed = strays or [at for i, (o, c) in enumerate(unreadable)
                            if i + 1 == len(unreadable) or unreadable[i + 1][0] > c for at in (o, c)]
        if not doomed:
            return text.translate(_NO_SENTINELS)
        for at in sorted(doomed, reverse=True):  # a sentinel goes with its delimiters, the text stays
            size = len(_MARK_OF[text[at]])
            start, stop = (at, at + 1 + size) if text[at] in _OPENINGS else (at - size, at + 1)
            text = text[:start] + text[stop:]


def _emphasis_spans(text: str) -> tuple[list[tuple[int, int, str]], list[int]]:
    """(opening, closing, mark) of each span, innermost first, and sentinels left without a partner."""
    spans: list[tuple[int, int, str]] = []
    stack: list[int] = []
    strays: list[int] = []
    for at, char in enumerate(text):
        if char in _OPENINGS:
            stack.append(at)
        elif char in _MARK_OF:
            if stack and _MARK_OF[text[stack[-1]]] == _MARK_OF[char]:
                spans.append((stack.pop(), at, _MARK_OF[char]))
            else:
                strays.append(at)  # a paragraph break cut the span: its markup goes
    return spans, strays + stack


def _readable(text: str, opening: int, closing: int, size: int) -> bool:
    """Whether CommonMark opens and closes this span, its delimiters not running into others."""
    outer_left, inner_left = _neighbour(text, opening - 1, -1), _neighbour(text, opening + 1 + size, 1)
    inner_right, outer_right = _neighbour(text, closing - size - 1, -1), _neighbour(text, closing + 1, 1)
    char = text[opening + 1]
    if char in (outer_left, inner_left, inner_right, outer_right):
        return False  # `***` or `~~~~`: runs that merge no longer pair as written
    return _flanking(outer_left, inner_left)[0] and _flanking(inner_right, outer_right)[1]


def _neighbour(text: str, at: int, step: int) -> str:
    """The character a reader sees next to a delimiter run; a line edge reads as a space.

    An escaped `\\*` is returned as a backslash: it is punctuation, not part of a delimiter run.
    """
    while 0 <= at < len(text) and text[at] in _MARK_OF:
        at += step
    if not 0 <= at < len(text):
        return " "
    if text[at] in "\x0e\x0f":
        return "`"  # a code span's fence
    backslashes = 0
    while at > backslashes and text[at - backslashes - 1] == "\\":
        backslashes += 1
    return "\\" if backslashes % 2 else text[at]


def _flanking(before: str, after: str) -> tuple[bool, bool]:
    """CommonMark's left- and right-flanking tests for a delimiter run between two characters."""
    space_before, space_after = _is_space(before), _is_space(after)
    punct_before, punct_after = _is_punct(before), _is_punct(after)
    left = not space_after and (not punct_after or space_before or punct_before)
    right = not space_before and (not punct_before or space_after or punct_after)
    return left, right


def _is_space(char: str) -> bool:
    return char in " \t\n\v\f\r" or unicodedata.category(char) == "Zs"


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith(("P", "S"))
