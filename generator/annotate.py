"""A version's text as HTML with an anchor at every clause and its findings marked in place.

Markers from the Unicode private-use area are put into the Markdown at each clause's offsets
before rendering (markdown-it passes them through as text), then turned into elements: every
clause start gets an empty anchor `<span id="c-…">`, and a clause with findings is wrapped in
`<mark>` when that nests correctly, or flagged at its start when the clause crosses inline
markup (e.g. starts in plain text and ends inside bold).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .buildcache import digest
from .clauses import Clause, split_clauses
from .markup import TAG_OR_TEXT, render_markdown
from .model import SEVERITIES, Finding

_OPEN, _CLOSE, _END = "\ue000", "\ue001", "\ue002"
# The same characters written in a captured text would pass for markers (a forged anchor, a finding
# label on text the service chose): they are shown as U+FFFD, one for one, so offsets hold.
_NOT_MARKERS = re.compile(f"[{_OPEN}{_CLOSE}{_END}]")  # a regex: str.translate is slow on long texts
_MARKER = re.compile(f"{_OPEN}([a-z0-9-]+){_CLOSE}|{_END}([a-z0-9-]+){_CLOSE}")
_ATX_PREFIX = re.compile(r"\s{0,3}#{1,6}\s+")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
# A tag with a marker inside (raw HTML is off: every "<" of the output starts a tag of the renderer,
# and attribute values have their "<" and ">" escaped).
_TAG_WITH_MARKER = re.compile(f"<[^<>]*[{_OPEN}{_END}][^<>]*>")
_VOID = frozenset({"br", "hr", "img", "input", "wbr"})


@dataclass(frozen=True)
class AnnotatedText:
    html: str
    clauses: tuple[Clause, ...]


def _start_offset(markdown: str, clause: Clause) -> int:
    start = clause.start
    if clause.kind == "heading":
        prefix = _ATX_PREFIX.match(markdown, start)
        start = prefix.end() if prefix else start
    if start > 0 and markdown[start - 1] == "\\":  # keep a backslash escape in one piece
        start -= 1
    return start


def _balanced(fragment: str) -> bool:
    """True when the HTML between two markers opens and closes its own tags (a mark may wrap it)."""
    stack: list[str] = []
    for closing, name, self_closing in _TAG.findall(fragment):
        name = name.lower()
        if name in _VOID or self_closing:
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _severity(findings: Sequence[Finding]) -> str:
    return min((f.severity for f in findings), key=SEVERITIES.index)


def annotate(markdown: str, findings_by_clause: Mapping[str, Sequence[Finding]],
             base_url: str | None, titles: Mapping[str, str], heading_base: int = 3,
             clauses: Sequence[Clause] | None = None) -> AnnotatedText:
    """HTML of the text with clause anchors; `titles` names each rule for the finding labels.
    `clauses`: the text's split_clauses, when the caller has them already."""
    clauses = tuple(split_clauses(markdown) if clauses is None else clauses)
    markdown = _NOT_MARKERS.sub("\ufffd", markdown)
    inserts: list[tuple[int, int, str]] = []  # (offset, order, marker): ends before starts at a tie
    for clause in clauses:
        inserts.append((_start_offset(markdown, clause), 1, f"{_OPEN}{clause.id}{_CLOSE}"))
        if clause.id in findings_by_clause:
            inserts.append((clause.end, 0, f"{_END}{clause.id}{_CLOSE}"))
    pieces, last = [], 0
    for offset, _, marker in sorted(inserts):
        pieces += [markdown[last:offset], marker]
        last = offset
    pieces.append(markdown[last:])
    html = render_markdown("".join(pieces), base_url, heading_base)
    return AnnotatedText(_resolve(html, findings_by_clause, titles), clauses)


def _label(findings: Sequence[Finding], titles: Mapping[str, str]) -> str:
    # Plain text, not a link: the clause may itself sit inside a link of the captured text.
    names = "; ".join(f"{f.severity}: {titles.get(f.rule_id, f.rule_id)}" for f in findings)
    return f'<span class="finding-label">[{escape(names)}]</span> '


def _out_of_tags(html: str) -> str:
    """Markers moved out of the tags they landed in, to just after them: a clause may start in what
    Markdown renders as an attribute (a fenced code block's language, a link's title), and an
    element there would break the tag."""
    def move(m: re.Match[str]) -> str:
        tag = m.group(0)
        return _MARKER.sub("", tag) + "".join(marker.group(0) for marker in _MARKER.finditer(tag))

    return _TAG_WITH_MARKER.sub(move, html)


def _marked_in_parts(region: str, severity: str) -> str:
    """A flagged clause that crosses elements (bold, a link) cannot be one <mark>: each of its runs
    of text between tags gets its own, so all of it is marked."""
    return "".join(part if part.startswith("<") or not part.strip()
                   else f'<mark class="finding finding-part severity-{severity}">{part}</mark>'
                   for part in TAG_OR_TEXT.split(region))


def _resolve(html: str, findings_by_clause: Mapping[str, Sequence[Finding]],
             titles: Mapping[str, str]) -> str:
    html = _out_of_tags(html)
    wrapped = set()
    for clause_id, findings in findings_by_clause.items():
        opening, closing = f"{_OPEN}{clause_id}{_CLOSE}", f"{_END}{clause_id}{_CLOSE}"
        start, end = html.find(opening), html.find(closing)
        if not 0 <= start < end:
            continue
        region = html[start + len(opening):end]
        if _balanced(_MARKER.sub("", region)):
            wrapped.add(clause_id)
        elif not _MARKER.search(region):
            html = html[:start + len(opening)] + _marked_in_parts(region, _severity(findings)) + html[end:]

    def element(m: re.Match[str]) -> str:
        if m.group(2):  # an end marker
            return "</mark>" if m.group(2) in wrapped else ""
        clause_id = m.group(1)
        findings = findings_by_clause.get(clause_id, ())
        if not findings:
            return f'<span class="clause" id="{clause_id}"></span>'
        severity = _severity(findings)
        if clause_id in wrapped:
            return f'<mark class="finding severity-{severity}" id="{clause_id}">' + _label(findings, titles)
        return (f'<span class="clause finding-start severity-{severity}" id="{clause_id}">'
                + _label(findings, titles) + "</span>")

    return _MARKER.sub(element, html)


def by_clause(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.clause_id, []).append(finding)
    return grouped


def text_html_key(sha: str, version_url: str | None, declared_url: str | None,
                  findings: Sequence[Finding], titles: Mapping[str, str]) -> str:
    """The build cache's key of a version's annotated text: what `annotate` reads besides the
    text (named by its SHA-256) and the heading level."""
    rows = [[f.rule_id, f.severity, f.clause_id, f.start, f.end, titles.get(f.rule_id, "")] for f in findings]
    return digest(sha, version_url or "", *([declared_url] if declared_url else []), json.dumps(rows))
