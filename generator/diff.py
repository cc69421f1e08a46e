"""Word-level differences between two versions of a document. Pure: two strings in, frozen dataclasses out.

How: the texts are split into paragraphs (blocks separated by blank lines) and difflib's SequenceMatcher
(compiled, from cydifflib) aligns the paragraphs (autojunk off: repeated paragraphs and common words are
never junk); each run of changed paragraphs is then diffed word by word. A token is a word
(``terms-of-use``, ``1,000``, ``Mistral’s`` stay whole) or a run of one punctuation character (``**``),
with the whitespace after it attached: whitespace is shown but never compared, so re-wrapped lines are
not changes. A paragraph break inside a changed run is a token too; where both sides keep one, the
side-by-side rows re-align. Long runs are first cut at words found once on each side (patience diff), as
SequenceMatcher alone can take minutes on a rewritten 50,000-word text. A short unchanged stretch
squeezed between two edits ("the", ",") is folded into them (diff-match-patch's semantic clean-up), so a
rewritten sentence reads as one replacement: both live in generator.wordalign. A paragraph deleted in
one place and inserted unchanged elsewhere is marked moved.

The result holds plain strings: the text is untrusted and escaping is the template's job (Jinja
autoescape). It is deterministic: the same two texts always give the same structure. Its records and
figures (``Summary``) are defined in generator.diffmodel, and re-exported here.

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
from dataclasses import replace

from .diffmodel import Block, Change, Context, Gap, Op, Row, RowKind, Segment, Summary, TextDiff
from .wordalign import BREAK, SequenceMatcher, fold_short_equalities, token_opcodes

__all__ = ["SECTION_NAME_CHARS", "Block", "Change", "Context", "Gap", "Op", "Row", "RowKind", "Segment",
           "Summary", "TextDiff", "count_words", "diff_texts", "heading", "split_paragraphs", "tokenize"]

_PARAGRAPH_SPLIT = re.compile(r"\n[ \t]*\n")
_WORD = r"\w+(?:[’'.,\-]\w+)*"
_TOKEN = re.compile(rf"(?:{_WORD}|([^\w\s])\1*)\s*")
_WORDS = re.compile(_WORD)
_ATX = re.compile(r"#{1,6}\s+(.*?)(?:\s+#+)?\s*")
_SETEXT_RULE = re.compile(r"(?:=+|-+)\s*")

# Above this many paragraph pairs, paragraphs are aligned by wordalign's anchors: real texts have
# under 700 paragraphs (SequenceMatcher on 1,000 x 1,000 repeated lines: 0.5 s; 2,000: 3.7 s).
PARAGRAPH_PAIRS_LIMIT = 1_000_000


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


@functools.lru_cache(maxsize=1 << 16)
def _paragraph_key(paragraph: str) -> str:
    # Remembered as count_words is: most paragraphs of a version are in the diffs on both its sides.
    return " ".join(paragraph.split())


# A section name is quoted in a change's heading and the list of changes: a longer heading line
# (captured texts have some) is cut at a word, so that the name stays a name.
SECTION_NAME_CHARS = 80
# A link in a heading reads as its text; captured headings often open with an empty anchor link.
_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")


def _cap(title: str) -> str:
    if len(title) <= SECTION_NAME_CHARS:
        return title
    space = title.rfind(" ", 0, SECTION_NAME_CHARS + 1)
    return (title[:space] if space > 0 else title[:SECTION_NAME_CHARS]) + "…"


def heading(paragraph: str) -> str | None:
    """The text of a Markdown heading paragraph (ATX ``## x`` or setext ``x`` over ``---``), else None;
    at most SECTION_NAME_CHARS characters and an ellipsis. Setext: only the line over the rule, as
    captured texts run body lines into it."""
    lines = paragraph.split("\n")
    if match := _ATX.fullmatch(lines[0]):
        title = match.group(1)
    elif len(lines) >= 2 and _SETEXT_RULE.fullmatch(lines[-1]):
        title = lines[-2]
    else:
        return None
    title = _LINK.sub(r"\1", title.replace("**", "").replace("\\", ""))
    return _cap(" ".join(title.split())) or None


# A heading that only dates the document ("Last updated: August 29, 2025", "Effective: 1 May 2024")
# names no section: the changes below it belong to the section before, or to none.
_DATE_HEADING = re.compile(
    r"(last\s+)?(updated|modified|revised|effective)(\s+(on|as\s+of|date))?\b\W*.{0,30}\d", re.IGNORECASE)


def section_name(paragraph: str) -> str | None:
    title = heading(paragraph)
    return None if title is None or _DATE_HEADING.match(title) else title


def _row_paragraphs(row: Row) -> list[str]:
    # A changed row may hold several paragraphs (joined by a blank line): each is read on its own,
    # or a heading's rule at the end would make all of them one "heading".
    return (row.new_text or row.old_text).split(BREAK)


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


@functools.lru_cache(maxsize=4096)
def _paragraph_tokens(paragraph: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # A paragraph edited in one version is often edited again in the next: it is then the new side
    # of one diff and the old side of the next (over half the paragraphs tokenized at D = 200).
    tokens = tuple(tokenize(paragraph))
    return tokens, tuple(t.rstrip() or t for t in tokens)


def _run_tokens(paragraphs: Sequence[str]) -> tuple[list[str], list[str]]:
    """The tokens of a run of paragraphs, with a BREAK between two, and their comparison keys
    (whitespace is shown, never compared)."""
    tokens: list[str] = []
    keys: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            tokens.append(BREAK)
            keys.append(BREAK)
        paragraph_tokens, paragraph_keys = _paragraph_tokens(paragraph)
        tokens.extend(paragraph_tokens)
        keys.extend(paragraph_keys)
    return tokens, keys


def _word_rows(old_paras: Sequence[str], new_paras: Sequence[str], old_number: int,
               new_number: int) -> Iterator[Row]:
    """The rows of a run of changed paragraphs, diffed word by word."""
    old_tokens, old_keys = _run_tokens(old_paras)
    new_tokens, new_keys = _run_tokens(new_paras)
    builder = _RowBuilder(old_number, new_number)
    for tag, i1, i2, j1, j2 in fold_short_equalities(token_opcodes(old_keys, new_keys), old_keys, new_keys):
        if tag != "equal":
            builder.edit("".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2]))
            continue
        start = i1
        for i in [k for k in range(i1, i2) if old_keys[k] == BREAK] + [i2]:
            _equal_run(builder, old_tokens[start:i], new_tokens[j1 + start - i1:j1 + i - i1])
            if i < i2:  # both sides break here: the rows re-align
                yield builder.row()
                builder = _RowBuilder(builder.old_number + builder.old_breaks + 1,
                                      builder.new_number + builder.new_breaks + 1)
            start = i + 1
    yield builder.row()


def _equal_run(builder: _RowBuilder, old: list[str], new: list[str]) -> None:
    """Tokens equal but for the whitespace after them; usually the same bytes too, then joined once."""
    if old == new:
        if old:
            builder.equal("".join(old), "".join(new))
        return
    for old_token, new_token in zip(old, new, strict=True):
        builder.equal(old_token, new_token)


def _paragraph_rows(old_paras: Sequence[str], new_paras: Sequence[str]) -> Iterator[Row]:
    old_keys, new_keys = [_paragraph_key(p) for p in old_paras], [_paragraph_key(p) for p in new_paras]
    # Paragraphs are aligned as words are (wordalign) once there are too many pairs: SequenceMatcher
    # alone took minutes on 8,000 paragraphs of repeated lines, at every build.
    opcodes = SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes() \
        if len(old_keys) * len(new_keys) <= PARAGRAPH_PAIRS_LIMIT else token_opcodes(old_keys, new_keys)
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
            blocks.append(Change(number, run, heading(_row_paragraphs(run[0])[0]) or section))
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
            for paragraph in _row_paragraphs(row):
                section = section_name(paragraph) or section
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
