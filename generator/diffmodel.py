"""The shape of a diff as the changes page and the build cache see it: frozen records of plain
strings, kept apart from the algorithm that fills them so that readers of a diff need not import it.

Figures (``Summary``): a word is a token with a letter or digit in it. ``words_added`` / ``words_removed``
count the words shown inserted / deleted, except those of moved paragraphs (``words_moved``);
``percent_changed`` is (added + removed) / (words of old + words of new) x 100: 0 when no word changed
(moves included), 100 for a rewrite; ``changes`` counts the navigable changes (runs of changed
paragraphs, ids ``change-1``, ``change-2``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

Op = Literal["equal", "insert", "delete"]
RowKind = Literal["equal", "insert", "delete", "replace"]


@dataclass(frozen=True)
class Segment:
    """A stretch of text, unchanged, inserted or deleted."""

    op: Op
    text: str


@dataclass(frozen=True)
class Row:
    """Old and new text aligned: one paragraph each, or a run of changed paragraphs up to the next
    point where both sides re-align. ``old`` holds equal and delete segments, ``new`` equal and insert
    segments, ``inline`` all three (each deletion before its insertion). ``kind``: ``equal``, ``insert``
    (nothing on the old side), ``delete`` (nothing on the new side) or ``replace`` (a changed paragraph).
    Paragraph numbers are 1-based, None for an empty side."""

    kind: RowKind
    old: tuple[Segment, ...]
    new: tuple[Segment, ...]
    inline: tuple[Segment, ...]
    old_first: int | None
    old_last: int | None
    new_first: int | None
    new_last: int | None
    words_added: int = 0
    words_removed: int = 0
    moved: int | None = None  # a moved paragraph: the number of the change holding its other place

    @property
    def changed(self) -> bool:
        return self.kind != "equal"

    @property
    def old_text(self) -> str:
        return "".join(s.text for s in self.old)

    @property
    def new_text(self) -> str:
        return "".join(s.text for s in self.new)


def _span(rows: Sequence[Row], old: bool) -> str | None:
    """'14' or '14–16': the paragraphs the rows cover on one side; None when that side is empty."""
    firsts = [n for r in rows if (n := r.old_first if old else r.new_first) is not None]
    lasts = [n for r in rows if (n := r.old_last if old else r.new_last) is not None]
    if not firsts:
        return None
    return str(firsts[0]) if firsts[0] == lasts[-1] else f"{firsts[0]}–{lasts[-1]}"


@dataclass(frozen=True)
class Context:
    """Unchanged paragraphs shown around a change."""

    kind: ClassVar[str] = "context"
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Gap:
    """A long unchanged stretch, collapsed; its rows are kept for a full-text view."""

    kind: ClassVar[str] = "gap"
    rows: tuple[Row, ...]

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def paragraphs(self) -> str:
        """'12–40': the paragraphs of the new version it covers."""
        return _span(self.rows, old=False) or ""


@dataclass(frozen=True)
class Change:
    """One navigable change: consecutive changed rows; its HTML id is ``anchor`` (``change-N``)."""

    kind: ClassVar[str] = "change"
    number: int
    rows: tuple[Row, ...]
    section: str | None  # the heading the change sits under (or changes), if any

    @property
    def anchor(self) -> str:
        return f"change-{self.number}"

    @property
    def words_added(self) -> int:
        """Words inserted, not counting paragraphs moved here unchanged."""
        return sum(r.words_added for r in self.rows if r.moved is None)

    @property
    def words_removed(self) -> int:
        return sum(r.words_removed for r in self.rows if r.moved is None)

    @property
    def old_paragraphs(self) -> str | None:
        """'14' or '14–16': the paragraphs of the old text it covers; None for a pure insertion."""
        return _span(self.rows, old=True)

    @property
    def new_paragraphs(self) -> str | None:
        return _span(self.rows, old=False)


Block = Context | Gap | Change


@dataclass(frozen=True)
class Summary:
    words_old: int
    words_new: int
    words_added: int
    words_removed: int
    changes: int
    moved: int  # paragraphs moved elsewhere with their words unchanged
    words_moved: int  # their words, which words_added and words_removed do not count

    @property
    def percent_changed(self) -> float:
        total = self.words_old + self.words_new
        return 100.0 * (self.words_added + self.words_removed) / total if total else 0.0

    @property
    def percent_label(self) -> str:
        """'12.3%'; '<0.1%' and '>99.9%' rather than a rounding that hides or overstates a change."""
        value = self.percent_changed
        if value in (0, 100):
            return f"{value:.0f}%"
        if value < 0.05:
            return "<0.1%"
        if value >= 99.95:
            return ">99.9%"
        return f"{value:.1f}".removesuffix(".0") + "%"


@dataclass(frozen=True)
class TextDiff:
    blocks: tuple[Block, ...]
    summary: Summary
    identical: bool  # the two texts are the same string

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(b for b in self.blocks if isinstance(b, Change))

    @property
    def layout_only(self) -> bool:
        """The texts differ, but only in whitespace and paragraph breaks: no word changed."""
        return not self.identical and self.summary.changes == 0
