"""Split a version's Markdown into addressable clauses: sentences and list items, with the
heading they sit under as context. Pure.

A clause id depends only on the clause's normalized wording, so an unchanged clause keeps
its id, and its permalink anchor, from one version to the next.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Sequence
from typing import NamedTuple

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_LIST = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}\\?[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_HR = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ESCAPED_NUMBER = re.compile(r"^\s*\d{1,3}\\[.)]\s")
# A table cell that only names a column: a few words, no figures (a row of names and numbers is
# data), no sentence end, no one addressed or speaking.
_LABEL_WORDS = 6
_NOT_A_LABEL = re.compile(r"\d|[.!?;:]\W*$|[.!?;]\s|\b(we|you|us|our|your|i|my)\b", re.IGNORECASE)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# "[pp]: https://example.com/privacy": a link's target for "[Privacy Policy][pp]", said nowhere
# on the page (an anchor in front would make it text, and the link none).
_REFERENCE_DEFINITION = re.compile(r"\s{0,3}\[[^\]]+\]:\s*\S+(\s+(\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*")
# A list item that only links to a section: "[Rights](#rights)", or written out in full as
# "[Rights](https://example.com/privacy#rights)" (Bluesky's contents).
_CONTENTS_ENTRY = re.compile(r"\s*\[[^\]]*\]\((?:[^()\s#]*)#[^()\s]*\)\s*")

# Inline Markdown removed for matching, keeping a map back to source offsets.
_INLINE = re.compile(
    r"!?\[(?P<label>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)"  # links
    r"|\\(?P<escaped>[!-/:-@\[-`{-~])"  # backslash escapes
    r"|(?P<emph>\*{1,3}|_{2,3}|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)|~~|`)"  # emphasis, code marks
)

# Words after which a full stop does not end a sentence.
# (Initialisms such as "e.g." and "U.S." are read by _INITIALISM below.)
_ABBREVIATIONS = frozenset(
    "etc inc ltd llc co corp no nos vs v art arts para sec secs ch cf al approx mr "  # noqa: SIM905
    "mrs ms dr st jr sr dept fig p pp ibid min max".split()
)
# A sentence ends at . ! ? ; and the space before a capital (or before a dash and a capital: a list
# flattened into its paragraph, ". - Exclusive Venue. If ..."); or where extraction lost that space
# between two sentences ("this agreement.Our right", "accurate.If you"): a full stop between a
# lower-case word and a capitalised word followed by a space (not "x.AI", "Acme.Support@mail").
_SENTENCE_END = re.compile(r"[.!?;][\"'”’)\]]*\s+(?=(?:[-–—]\s+)?[\"'“‘(\[]*[A-Z0-9•])"
                           r"|(?<=[a-z]{2})\.(?=[A-Z][a-z]*\s)")


class Clause(NamedTuple):  # a named tuple: a version has hundreds, and a tuple is made fastest
    id: str
    text: str  # plain text: Markdown marks removed, whitespace collapsed
    start: int  # offsets of the clause in the version's Markdown
    end: int
    heading: str  # the nearest heading above it ("" before the first)
    # "sentence", "list-item", "heading", "table-row", "table-header" (the rows of labels that head a
    # table) or "contents-entry"; headings, table headers and contents entries are never analysed
    kind: str
    # For a list item: the sentence ending with ":" that introduces its list; for an item of a list
    # written inline ("... FOR (A) ...; (B) ..."), the words before the list's first enumerator.
    lead_in: str = ""


def normalize_for_id(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def clause_id(text: str) -> str:
    return "c-" + hashlib.sha256(normalize_for_id(text).encode()).hexdigest()[:12]


class _OffsetMap:
    """Source offset of each character of a block's plain text, kept as runs (not per character)."""

    def __init__(self) -> None:
        self.plain_starts: list[int] = []
        self.source_starts: list[int] = []

    def add(self, plain_at: int, source_at: int) -> None:
        self.plain_starts.append(plain_at)
        self.source_starts.append(source_at)

    def __getitem__(self, index: int) -> int:
        run = bisect.bisect_right(self.plain_starts, index) - 1
        return self.source_starts[run] + index - self.plain_starts[run]


def _plain(source: str, offset: int) -> tuple[str, _OffsetMap]:
    """Strip inline Markdown from one block; return the text and each character's source offset."""
    parts: list[str] = []
    where = _OffsetMap()
    length = pos = 0

    def keep(text: str, source_at: int) -> None:
        nonlocal length
        if text:
            where.add(length, offset + source_at)
            parts.append(text)
            length += len(text)

    for m in _INLINE.finditer(source):
        keep(source[pos:m.start()], pos)
        if m.group("label") is not None:
            # A link's label has marks of its own ("[**Disputes**](…)"): stripped the same way.
            label_at = m.start("label")
            label, label_map = _plain(m.group("label"), offset + label_at)
            for plain_at, source_at in zip(label_map.plain_starts, label_map.source_starts, strict=True):
                where.add(length + plain_at, source_at)
            parts.append(label)
            length += len(label)
        elif m.group("escaped") is not None:
            keep(m.group("escaped"), m.start() + 1)
        pos = m.end()
    keep(source[pos:], pos)
    return "".join(parts), where


_WORD_AT_END = re.compile(r"[\w.]+$")
# Single letters joined by full stops ("e.g.", "U.S.", "R.I.P.", "P.O. Box", "d.b.a. Bluesky"): an
# initialism, which does not end a sentence, whatever its letters.
_INITIALISM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")


def _last_word(text: str) -> str:
    """The run of word characters and full stops that ends the text ("" if none). It holds no
    space, so it lies in the text's last space-free chunk: searched there, not in the whole."""
    if not text or text[-1].isspace():
        return ""
    found = _WORD_AT_END.search(text.rsplit(None, 1)[-1])
    return found.group(0) if found else ""


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of plain text: split after . ! ? ; unless an abbreviation ends there."""
    spans = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[m.start()] == ".":
            last_word = _last_word(text[start:m.start() + 1].rstrip(".!?;\"'”’)]"))
            if last_word and (last_word.lower().rstrip(".") in _ABBREVIATIONS or len(last_word) == 1
                              or _INITIALISM.fullmatch(last_word.rstrip("."))):
                continue
        spans.append((start, m.start() + 1))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _blocks(markdown: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each block: heading, list-item, table-header, table-row or paragraph."""
    blocks: list[tuple[str, int, int]] = []
    lines = markdown.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    para: tuple[str, int] | None = None  # (kind, first line) of the open paragraph
    table_head = False  # in the rows of labels at the top of a table

    def close(end_line: int) -> None:
        nonlocal para
        if para is not None:
            blocks.append((para[0], offsets[para[1]], offsets[end_line] - 1))
            para = None

    for i, line in enumerate(lines):
        # Each pattern is tried only where the line's first character allows it (most lines are prose).
        first = line.lstrip()[:1]
        if not first or (para is None and first in "-*_" and _HR.match(line)):
            close(i)
        elif para is not None and i == para[1] + 1 and first in "=-" and _SETEXT.match(line) and (
                para[0] == "paragraph" or _ESCAPED_NUMBER.match(lines[para[1]])):
            # ("12\. Transfers" over a rule is a heading: the escaped full stop is no list marker.)
            blocks.append(("heading", offsets[para[1]], offsets[i] - 1))
            para = None
        elif para is None and first == "[" and _REFERENCE_DEFINITION.fullmatch(line):
            pass  # not a clause: no block (it cannot interrupt a paragraph, so there is none open)
        elif first == "#" and _ATX.match(line):
            close(i)
            blocks.append(("heading", offsets[i], offsets[i + 1] - 1))
        elif first == "|":
            close(i)
            # (The row over the rule is not taken for a header: an extracted table without <th>
            # cells gets its rule under its first row of content too. Rows of labels only, at the
            # top, are: "| Category | Sharing for Targeted Advertising |" names a column, it does
            # not say the company shares.)
            if i == 0 or not lines[i - 1].lstrip().startswith("|"):
                table_head = True
            if not _TABLE_RULE.match(line):
                table_head = table_head and _label_row(line)
                blocks.append(("table-header" if table_head else "table-row", offsets[i], offsets[i + 1] - 1))
        elif (first in "-*+" or first.isdigit()) and _LIST.match(line):
            close(i)
            para = ("list-item", i)
        elif para is None:
            para = ("paragraph", i)
    close(len(lines))
    return blocks


def _label_row(line: str) -> bool:
    """Whether every cell of a table row (two at least) is a column's label, or the row is empty
    (extracted tables often have an empty header row over the labels)."""
    cells = [" ".join(_BREAK.sub(" ", cell).split()) for cell in line.strip().strip("|").split("|")]
    cells = [cell for cell in cells if cell]
    return not cells or (len(cells) >= 2 and all(
        len(cell.split()) <= _LABEL_WORDS and not _NOT_A_LABEL.search(cell) for cell in cells))


def _heading_text(source: str) -> str:
    first = source.split("\n", 1)[0]
    m = _ATX.match(first)
    return m.group(2) if m else first


# A block's clauses: (plain text, start, end relative to the block, kind, id before numbering, and
# for an item of a list written inline, the words that introduce the list).
_BlockClause = tuple[str, int, int, str, str, str]

# The enumerator that opens an item of a list written inline in a paragraph: "(2)", "2)", "(B)",
# "B)". Only these end a sentence at the "; " before them; "(b)" or "(ii)" leave the list in one.
_ENUMERATOR = re.compile(r"(\(?)(\d{1,2}|[A-Z])\)\s")


def _enumerator_before(label: str, paren: str) -> re.Pattern[str] | None:
    """Where the item before `label` opens, within its sentence: after a space, in the same form."""
    if label.isdigit():
        before = str(int(label) - 1) if int(label) > 1 else ""
    else:
        before = chr(ord(label) - 1) if label > "A" else ""
    opening = r"\(" if paren else r"(?<!\()"
    return re.compile(rf"(?<=\s){opening}{before}\)\s") if before else None


def _next_label(label: str) -> str:
    return str(int(label) + 1) if label.isdigit() else chr(ord(label) + 1)


def inline_lists(sentences: Sequence[str]) -> list[str]:
    """For each sentence of a paragraph, the words that introduce the inline list it is an item of
    ("" for none). "WE ARE NOT LIABLE FOR (A) LOST PROFITS; (B) LOSS OF DATA; (C) ..." is split at
    each "; (X)" into sentences: "(B) LOSS OF DATA;" is an item introduced by "WE ARE NOT LIABLE
    FOR", just as a Markdown list's items are by the sentence before them. Items follow each other
    after a ";" and count on from the enumerator in the first sentence."""
    leads = [""] * len(sentences)
    i = 0
    while i + 1 < len(sentences):
        first, item = sentences[i], _ENUMERATOR.match(sentences[i + 1])
        opening = _enumerator_before(item.group(2), item.group(1)) if item else None
        found = None
        if item and first.endswith(";") and opening:
            found = max(opening.finditer(first), key=lambda m: m.start(), default=None)
        lead = first[:found.start()].strip() if found else ""
        if not (item and re.search(r"\w", lead)):
            i += 1
            continue
        label, paren, j = item.group(2), item.group(1), i + 1
        while (j < len(sentences) and sentences[j - 1].endswith(";") and not sentences[j].endswith(":")
               and (m := _ENUMERATOR.match(sentences[j])) and (m.group(2), m.group(1)) == (label, paren)):
            leads[j] = lead
            label, j = _next_label(label), j + 1
        i = j
    return leads


@functools.lru_cache(maxsize=32768)
def _block_clauses(kind: str, source: str) -> tuple[_BlockClause, ...]:
    """The clauses of one block. Versions of a document share most of their blocks, so this is
    remembered: splitting ten versions costs about what their distinct paragraphs cost."""
    found: list[_BlockClause] = []

    def add(text: str, start: int, end: int, clause_kind: str) -> None:
        text = " ".join(text.split())
        if re.search(r"\w", text) or clause_kind == "heading":  # a heading without words clears it
            found.append((text, start, end, clause_kind, clause_id(text), ""))

    if kind == "heading":
        body = _heading_text(source)
        body_start = source.index(body) if body in source else 0
        text, _ = _plain(body, body_start)
        add(text, 0, len(source), "heading")
        return tuple(found)
    start = 0
    if kind == "list-item":
        marker = _LIST.match(source)
        start = marker.end() if marker else 0
        source = source[start:]
        if _CONTENTS_ENTRY.fullmatch(source):  # a table of contents names a section, it says nothing
            kind = "contents-entry"
    elif kind in ("table-row", "table-header"):
        source = source.replace("|", " ")
    text, where = _plain(source, start)
    spans = split_sentences(text) if kind not in ("table-row", "table-header") else [(0, len(text))]
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            add(text[a:b], where[a], where[b - 1] + 1, "sentence" if kind == "paragraph" else kind)
    if kind == "paragraph" and len(found) > 1:
        leads = inline_lists([clause[0] for clause in found])
        found = [(*clause[:3], "list-item", clause[4], lead) if lead else clause
                 for clause, lead in zip(found, leads, strict=True)]
    return tuple(found)


def split_clauses(markdown: str) -> list[Clause]:
    clauses: list[Clause] = []
    seen: dict[str, int] = {}
    heading = lead = ""
    for kind, start, end in _blocks(markdown):
        for text, a, b, clause_kind, base, inline_lead in _block_clauses(kind, markdown[start:end]):
            if clause_kind != "list-item":  # a list's lead-in lasts until something else than its items
                lead = text if clause_kind == "sentence" and text.endswith(":") else ""
            if clause_kind == "heading":
                heading = text
                if not re.search(r"\w", text):
                    continue
            seen[base] = seen.get(base, 0) + 1
            cid = base if seen[base] == 1 else f"{base}-{seen[base]}"  # identical clauses repeated
            clauses.append(Clause(cid, text, start + a, start + b, heading, clause_kind,
                                  inline_lead or (lead if clause_kind == "list-item" else "")))
    return clauses
