"""Word-level differences between two versions of a document. Pure: two strings in, frozen dataclasses out.

How: the texts are split into paragraphs (blocks separated by blank lines) and difflib.SequenceMatcher
aligns the paragraphs (autojunk off: repeated paragraphs and common words are never junk); each run of
changed paragraphs is then diffed word by word. A token is a word (``terms-of-use``, ``1,000``,
``Mistral’s`` stay whole) or a run of one punctuation character (``**``), with the whitespace after it
attached: whitespace is shown but never compared, so re-wrapped lines are not changes. A paragraph
break inside a changed run is a token too; where both sides keep one, the side-by-side rows re-align.
Long runs are first cut at words found once on each side (patience diff), as SequenceMatcher alone can
take minutes on a rewritten 50,000-word text. A short unchanged stretch squeezed between two edits
("the", ",") is folded into them (diff-match-patch's semantic clean-up), so a rewritten sentence reads
as one replacement. A paragraph deleted in one place and inserted unchanged elsewhere is marked moved.

The result holds plain strings: the text is untrusted and escaping is the template's job (Jinja
autoescape). It is deterministic: the same two texts always give the same structure.

Figures (``Summary``): a word is a token with a letter or digit in it. ``words_added`` / ``words_removed``
count the words shown inserted / deleted, except those of moved paragraphs (``words_moved``);
``percent_changed`` is (added + removed) / (words of old + words of new) x 100: 0 when no word changed
(moves included), 100 for a rewrite; ``changes`` counts the navigable changes (runs of changed
paragraphs, ids ``change-1``, ``change-2``...).

Context of ``changes.html`` (page ``<service>/<doc-type>/<version-id>/changes/``):

- ``doc``: DocumentView: ``.title``, ``.path`` (``<service>/<doc-type>/``), ``.history_path``, ``.key``
- ``v``: VersionView of the new version: ``.id``, ``.path``, ``.captured``, ``.version.kind``
  (``first`` / ``change`` / ``technical``), ``.version.captured_at``, ``.previous_id``, ``.next_id``
- ``prev``: VersionView of the old version (same attributes); None only for a first version
- ``diff``: ``diff_texts(prev's text, v's text)``, a ``TextDiff``; None when ``prev`` is None
- ``root``, ``settings``, ``site``, ``page_path``: as for every page (base.html)
The page fills ``{% block head %}`` of base.html with diff.css and diffnav.js.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from itertools import accumulate
from typing import ClassVar, Literal

Op = Literal["equal", "insert", "delete"]
RowKind = Literal["equal", "insert", "delete", "replace"]
_Opcode = tuple[str, int, int, int, int]  # as SequenceMatcher.get_opcodes()

BREAK = "\n\n"  # the token between two paragraphs of a changed run
# Above this many token pairs (len(old) x len(new)), a changed run is first cut at anchors.
DIRECT_LIMIT = 250_000
MAX_DEPTH = 40
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t]*\n")
_WORD = r"\w+(?:[’'.,\-]\w+)*"
_TOKEN = re.compile(rf"(?:{_WORD}|([^\w\s])\1*)\s*")
_WORDS = re.compile(_WORD)
_ATX = re.compile(r"#{1,6}\s+(.*?)(?:\s+#+)?\s*")
_SETEXT_RULE = re.compile(r"(?:=+|-+)\s*")


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


def split_paragraphs(text: str) -> list[str]:
    """Blocks of text separated by blank lines, stripped; empty ones dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p for p in (part.strip() for part in _PARAGRAPH_SPLIT.split(text)) if p]


def tokenize(paragraph: str) -> list[str]:
    """Words and punctuation runs, each with the whitespace after it: they join back into the
    stripped paragraph."""
    return [m.group(0) for m in _TOKEN.finditer(paragraph.strip())]


@functools.lru_cache(maxsize=1 << 16)
def count_words(text: str) -> int:
    # Versions share most paragraphs, and each version is the new side of one diff and the old
    # side of the next: counted once, looked up after.
    return len(_WORDS.findall(text))


def _paragraph_key(paragraph: str) -> str:
    return " ".join(paragraph.split())


def heading(paragraph: str) -> str | None:
    """The text of a Markdown heading paragraph (ATX ``## x`` or setext ``x`` over ``---``), else None."""
    lines = paragraph.split("\n")
    if match := _ATX.fullmatch(lines[0]):
        title = match.group(1)
    elif len(lines) >= 2 and _SETEXT_RULE.fullmatch(lines[-1]):
        title = " ".join(lines[:-1])
    else:
        return None
    return " ".join(title.replace("**", "").replace("\\", "").split()) or None


class _Side:
    """The segments of one side (or of the inline view) of a row being built."""

    def __init__(self) -> None:
        self.parts: list[tuple[Op, list[str]]] = []

    def add(self, op: Op, text: str) -> None:
        if text:
            if self.parts and self.parts[-1][0] == op:
                self.parts[-1][1].append(text)
            else:
                self.parts.append((op, [text]))

    def segments(self) -> tuple[Segment, ...]:
        return tuple(Segment(op, "".join(texts)) for op, texts in self.parts)


def _split_space(text: str) -> tuple[str, str, str]:
    core = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    return lead, core, text[len(lead) + len(core):]


class _RowBuilder:
    """Builds one row from the word-level opcodes of a changed run."""

    def __init__(self, old_number: int, new_number: int) -> None:
        self.old_number, self.new_number = old_number, new_number
        self.old, self.new, self.inline = _Side(), _Side(), _Side()
        self.old_breaks = self.new_breaks = self.added = self.removed = 0
        self.old_content = self.new_content = self.edited = False

    def equal(self, old: str, new: str) -> None:
        self.old.add("equal", old)
        self.new.add("equal", new)
        self.inline.add("equal", old if len(old) > len(new) else new)
        self.old_content = self.new_content = True

    def edit(self, old: str, new: str) -> None:
        self.old_breaks += old.count(BREAK)
        self.new_breaks += new.count(BREAK)
        old_lead, old_core, old_trail = _split_space(old)
        new_lead, new_core, new_trail = _split_space(new)
        if not old_core and not new_core:  # only paragraph breaks differ: layout, not a change
            self.old.add("equal", old)
            self.new.add("equal", new)
            self.inline.add("equal", new)
            return
        self.old.add("equal", old_lead)
        self.old.add("delete", old_core)
        self.old.add("equal", old_trail)
        self.new.add("equal", new_lead)
        self.new.add("insert", new_core)
        self.new.add("equal", new_trail)
        self.inline.add("equal", max(old_lead, new_lead, key=len))
        self.inline.add("delete", old_core)
        self.inline.add("insert", new_core)
        self.inline.add("equal", max(old_trail, new_trail, key=len))
        self.old_content = self.old_content or bool(old_core)
        self.new_content = self.new_content or bool(new_core)
        self.edited = True
        self.removed += count_words(old_core)
        self.added += count_words(new_core)

    def row(self) -> Row:
        kind: RowKind = ("equal" if not self.edited else "insert" if not self.old_content
                         else "delete" if not self.new_content else "replace")
        old_first = self.old_number if self.old_content else None
        new_first = self.new_number if self.new_content else None
        # A side with no words (only a paragraph break of the other side's edit) shows nothing.
        return Row(kind, self.old.segments() if self.old_content else (),
                   self.new.segments() if self.new_content else (), self.inline.segments(),
                   old_first, None if old_first is None else old_first + self.old_breaks,
                   new_first, None if new_first is None else new_first + self.new_breaks,
                   self.added, self.removed)


def _token_opcodes(a: Sequence[str], b: Sequence[str]) -> list[_Opcode]:
    """Like SequenceMatcher(None, a, b).get_opcodes(): equal and changed runs alternate."""
    raw: list[_Opcode] = []
    _align(a, b, 0, len(a), 0, len(b), raw, 0)
    out: list[_Opcode] = []
    for op in raw:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if out and (out[-1][0] == "equal") == (op[0] == "equal"):
            last = out[-1]
            out[-1] = (last[0] if op[0] == "equal" else "replace", last[1], op[2], last[3], op[4])
        else:
            out.append(op)
    return out


def _align(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int,
           out: list[_Opcode], depth: int) -> None:
    start = alo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    out.append(("equal", start, alo, blo - (alo - start), blo))
    end = ahi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if alo == ahi or blo == bhi or (ahi - alo) * (bhi - blo) <= DIRECT_LIMIT:
        matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
        out.extend((tag, alo + i1, alo + i2, blo + j1, blo + j2)
                   for tag, i1, i2, j1, j2 in matcher.get_opcodes())
    else:
        i, j = alo, blo
        # Past MAX_DEPTH (only hostile text gets there), no more cutting: a plain replacement.
        for ai, bj in _anchors(a, b, alo, ahi, blo, bhi) if depth < MAX_DEPTH else ():
            _align(a, b, i, ai, j, bj, out, depth + 1)
            out.append(("equal", ai, ai + 1, bj, bj + 1))
            i, j = ai + 1, bj + 1
        if i == alo:  # no anchor at all: the texts have nothing worth aligning word by word
            out.append(("replace", alo, ahi, blo, bhi))
        else:
            _align(a, b, i, ahi, j, bhi, out, depth + 1)
    out.append(("equal", ahi, end, bhi, bhi + (end - ahi)))


def _anchors(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int,
             bhi: int) -> list[tuple[int, int]]:
    """The longest in-order chain of tokens found once in a[alo:ahi] and once in b[blo:bhi] (patience
    diff); when there are none (repetitive text), of tokens found as often on both sides, the k-th
    occurrence in a paired with the k-th in b."""
    in_a: dict[str, list[int]] = {}
    for i in range(alo, ahi):
        in_a.setdefault(a[i], []).append(i)
    in_b: dict[str, list[int]] = {}
    for j in range(blo, bhi):
        if b[j] in in_a:
            in_b.setdefault(b[j], []).append(j)
    pairs = sorted((in_a[key][0], js[0]) for key, js in in_b.items() if len(js) == len(in_a[key]) == 1)
    if not pairs:
        pairs = sorted(pair for key, js in in_b.items() if len(js) == len(in_a[key])
                       for pair in zip(in_a[key], js, strict=True))
    tails: list[int] = []  # patience sorting: tails[k] ends the best chain of length k + 1
    back = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if pairs[tails[mid]][1] < j else (lo, mid)
        back[index] = tails[lo - 1] if lo else -1
        tails[lo:lo + 1] = [index]
    chain: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def _fold_short_equalities(ops: Sequence[_Opcode], old_keys: Sequence[str],
                           new_keys: Sequence[str]) -> list[_Opcode]:
    """Fold an unchanged stretch of at most 3 tokens between two edits into them when it holds no
    paragraph break and is no longer than the edits on either side."""

    old_ends = list(accumulate(map(len, old_keys), initial=0))  # old_ends[i]: characters before token i
    new_ends = list(accumulate(map(len, new_keys), initial=0))

    def weight(op: _Opcode) -> int:  # characters on the larger side, from prefix sums: O(1)
        return max(old_ends[op[2]] - old_ends[op[1]], new_ends[op[4]] - new_ends[op[3]])

    out: list[_Opcode] = []
    for op in ops:
        out.append(op)
        while len(out) >= 3 and out[-1][0] != "equal" and out[-2][0] == "equal" and out[-3][0] != "equal":
            before, middle, after = out[-3:]
            if middle[2] - middle[1] > 3 or BREAK in old_keys[middle[1]:middle[2]] \
                    or old_ends[middle[2]] - old_ends[middle[1]] > min(weight(before), weight(after)):
                break
            out[-3:] = [("replace", before[1], after[2], before[3], after[4])]
    return out


def _run_tokens(paragraphs: Sequence[str]) -> list[str]:
    tokens: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            tokens.append(BREAK)
        tokens.extend(tokenize(paragraph))
    return tokens


def _word_rows(old_paras: Sequence[str], new_paras: Sequence[str], old_number: int,
               new_number: int) -> Iterator[Row]:
    """The rows of a run of changed paragraphs, diffed word by word."""
    old_tokens, new_tokens = _run_tokens(old_paras), _run_tokens(new_paras)
    old_keys = [t.rstrip() or t for t in old_tokens]
    new_keys = [t.rstrip() or t for t in new_tokens]
    builder = _RowBuilder(old_number, new_number)
    for tag, i1, i2, j1, j2 in _fold_short_equalities(_token_opcodes(old_keys, new_keys), old_keys, new_keys):
        if tag != "equal":
            builder.edit("".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2]))
            continue
        for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
            if old_keys[i] == BREAK:  # both sides break here: the rows re-align
                yield builder.row()
                builder = _RowBuilder(builder.old_number + builder.old_breaks + 1,
                                      builder.new_number + builder.new_breaks + 1)
            else:
                builder.equal(old_tokens[i], new_tokens[j])
    yield builder.row()


def _paragraph_rows(old_paras: Sequence[str], new_paras: Sequence[str]) -> Iterator[Row]:
    old_keys, new_keys = [_paragraph_key(p) for p in old_paras], [_paragraph_key(p) for p in new_paras]
    opcodes = SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
    # A paragraph found unchanged on the other side, away from its place, is kept whole (a move
    # candidate) instead of being diffed word by word against its new neighbours.
    unmatched_old = {old_keys[i] for tag, i1, i2, _, _ in opcodes if tag != "equal" for i in range(i1, i2)}
    unmatched_new = {new_keys[j] for tag, _, _, j1, j2 in opcodes if tag != "equal" for j in range(j1, j2)}
    movable = {key for key in unmatched_old & unmatched_new if count_words(key)}
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                old, new = (Segment("equal", old_paras[i]),), (Segment("equal", new_paras[j]),)
                yield Row("equal", old, new, new, i + 1, i + 1, j + 1, j + 1)
            continue
        i, j = i1, j1
        while i < i2 or j < j2:
            if i < i2 and old_keys[i] in movable:
                gone = (Segment("delete", old_paras[i]),)
                yield Row("delete", gone, (), gone, i + 1, i + 1, None, None, 0, count_words(old_paras[i]))
                i += 1
            elif j < j2 and new_keys[j] in movable:
                added = (Segment("insert", new_paras[j]),)
                yield Row("insert", (), added, added, None, None, j + 1, j + 1, count_words(new_paras[j]))
                j += 1
            else:
                i_end, j_end = i, j
                while i_end < i2 and old_keys[i_end] not in movable:
                    i_end += 1
                while j_end < j2 and new_keys[j_end] not in movable:
                    j_end += 1
                yield from _word_rows(old_paras[i:i_end], new_paras[j:j_end], i + 1, j + 1)
                i, j = i_end, j_end


def _moves(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """(deleted row, inserted row) for whole paragraphs that reappear unchanged elsewhere, in order."""
    deleted: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.kind == "delete" and len(row.old) == 1 and row.old_first == row.old_last:
            deleted.setdefault(_paragraph_key(row.old_text), []).append(index)
    pairs = []
    for index, row in enumerate(rows):
        if row.kind == "insert" and len(row.new) == 1 and row.new_first == row.new_last and row.words_added:
            candidates = deleted.get(_paragraph_key(row.new_text))
            if candidates:
                pairs.append((candidates.pop(0), index))
    return pairs


def _blocks(rows: Sequence[Row], context: int | None) -> list[Block]:
    blocks: list[Block] = []
    section: str | None = None
    number = start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end].changed == rows[start].changed:
            end += 1
        run = tuple(rows[start:end])
        if run[0].changed:
            number += 1
            blocks.append(Change(number, run, heading(run[0].new_text or run[0].old_text) or section))
        else:
            before = 0 if start == 0 else context
            after = 0 if end == len(rows) else context
            if before is None or after is None or len(run) <= before + after + 1:
                blocks.append(Context(run))
            else:
                blocks.extend([Context(run[:before])] if before else [])
                blocks.append(Gap(run[before:len(run) - after]))
                blocks.extend([Context(run[len(run) - after:])] if after else [])
        for row in run:
            section = heading(row.new_text or row.old_text) or section
        start = end
    return blocks


def diff_texts(old: str, new: str, context: int | None = 2) -> TextDiff:
    """The differences between two versions' texts. ``context``: the unchanged paragraphs shown before
    and after each change, longer unchanged stretches becoming gaps; None: the full text, no gaps."""
    if context is not None and context < 0:
        raise ValueError("context must be None or >= 0")
    old_paras, new_paras = split_paragraphs(old), split_paragraphs(new)
    rows = list(_paragraph_rows(old_paras, new_paras))
    pairs = _moves(rows)
    if pairs:
        changes = (b for b in _blocks(rows, context) if isinstance(b, Change))
        change_of = {id(row): change.number for change in changes for row in change.rows}
        partner = {a: change_of[id(rows[b])] for a, b in pairs}
        partner |= {b: change_of[id(rows[a])] for a, b in pairs}
        rows = [replace(row, moved=partner[i]) if i in partner else row for i, row in enumerate(rows)]
    blocks = tuple(_blocks(rows, context))
    summary = Summary(
        words_old=sum(map(count_words, old_paras)), words_new=sum(map(count_words, new_paras)),
        words_added=sum(r.words_added for r in rows if r.moved is None),
        words_removed=sum(r.words_removed for r in rows if r.moved is None),
        changes=sum(1 for b in blocks if isinstance(b, Change)), moved=len(pairs),
        words_moved=sum(rows[a].words_removed for a, _ in pairs))
    return TextDiff(blocks, summary, old == new)
