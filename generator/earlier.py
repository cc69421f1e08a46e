"""Earlier wording for search: the sentences of a version that the next version no longer has.

Search indexes each document's latest version in full. A reader (a journalist above all) also
asks "did this policy ever say X, and when?": so each older version is indexed too, but only with
its *superseded* clauses, those whose wording the next version does not carry. Every wording of the
archive is then indexed once (at the last version that had it), and an older version's unchanged
bulk is not indexed ten times over. Pure: the pipeline finds the clauses and writes the records.

A record is a small HTML document shown to Pagefind only (never published), at the very path of
the version's page, so a result links to that page, and each clause is a heading with the clause's
id, so a sub-result links to the clause's anchor in it (`#c-…`).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import NamedTuple

from .clauses import Clause
from .markup import without_bidi_controls
from .model import SEVERITIES

# What a reader searches for: provisions, not headings or a table of contents.
_KINDS = frozenset({"sentence", "list-item", "table-row"})
WORDING_FILTER = "wording"  # the search filter that tells the two apart
CURRENT, EARLIER = "current", "earlier"
# Earlier wording ranks below the same words in force: Pagefind multiplies its term weights by this.
EARLIER_WEIGHT = "0.5"


class Superseded(NamedTuple):
    clause_id: str
    heading: str  # the nearest heading above it in its version
    text: str  # the clause's plain text


def _base_id(clause_id: str) -> str:
    """A clause's id without the "-2", "-3" of a wording repeated within one version."""
    return clause_id[:14]  # "c-" and 12 hex digits (clauses.clause_id)


def superseded(old: Sequence[Clause], new: Sequence[Clause]) -> list[Superseded]:
    """The clauses of `old` whose wording `new` does not have anywhere (a moved clause keeps it)."""
    kept = {_base_id(c.id) for c in new}
    gone: list[Superseded] = []
    listed: set[str] = set()
    for clause in old:
        base = _base_id(clause.id)
        if clause.kind in _KINDS and base not in kept and base not in listed:
            listed.add(base)
            gone.append(Superseded(clause.id, clause.heading, clause.text))
    return gone


def stored(rows: Sequence[Superseded]) -> list[list[str]]:
    return [list(row) for row in rows]


def from_stored(value: object) -> list[Superseded] | None:
    """Rows as the build cache keeps them; None for anything else (a damaged entry: compute again)."""
    if not isinstance(value, list):
        return None
    rows = []
    for row in value:
        if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
            return None
        rows.append(Superseded(*row))
    return rows


class RecordContext(NamedTuple):
    """What a record says besides the clauses, all of it the archive's and the content's."""
    site_language: str  # the pages' <html lang>: Pagefind keeps one index per language
    title: str  # the document's title, e.g. "ChatGPT Privacy Policy"
    service: str
    doc_type: str
    captured: str  # the version's capture time, as the site shows it
    superseded_by: str  # the next version's capture time
    text_language: str  # what the text reads as ("" not known)


def record_html(context: RecordContext, rows: Sequence[Superseded],
                flagged: Sequence[tuple[str, str]] = ()) -> bytes:
    """The record Pagefind indexes for an older version (every value escaped: captured text is
    untrusted). Its filters: service, document type, wording=earlier, and the category and severity
    of each finding on its clauses (`flagged`: (category name, severity) pairs)."""
    c = context
    weight = f'data-pagefind-weight="{EARLIER_WEIGHT}"'  # on each element: headings have weights of their own
    lang = f' lang="{escape(c.text_language)}"' if c.text_language != c.site_language else ""
    parts = [
        f'<!DOCTYPE html>\n<html lang="{escape(c.site_language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(c.title)}</title>\n</head>\n<body>\n"
        "<main data-pagefind-body>\n"
        # What every record says is the result's title and filters, not words to search by (its
        # service's name would find every record many times over): Pagefind indexes none of it.
        "<div data-pagefind-ignore>\n"
        # Pagefind searches the title too: it says no word a reader might search for ("earlier")
        # that every record would then match, and reads as a current result's does ("as captured").
        f'<h1 data-pagefind-meta="title">{escape(c.title)} as captured {escape(c.captured)}: '
        f"wording gone by {escape(c.superseded_by)}</h1>\n"
        f'<span data-pagefind-filter="service">{escape(c.service)}</span>\n'
        f'<span data-pagefind-filter="document type">{escape(c.doc_type)}</span>\n'
        f'<span data-pagefind-filter="{WORDING_FILTER}:{EARLIER}"></span>\n'
        # the search page marks the excerpts of a text in another language with it (search.html)
        + (f'<span data-pagefind-meta="lang:{escape(c.text_language)}"></span>\n'
           if c.text_language and lang else "")
        + "".join(f'<span data-pagefind-filter="category">{escape(category)}</span>\n'
                  for category in sorted({category for category, _ in flagged}))
        + "".join(f'<span data-pagefind-filter="severity">{severity}</span>\n'
                  for severity in SEVERITIES if any(s == severity for _, s in flagged)) +
        "</div>\n"
        f"<div{lang}>\n"
    ]
    for row in rows:
        # The heading is the sub-result's title; its id the clause's anchor on the version page.
        heading, text = without_bidi_controls(row.heading or c.title), without_bidi_controls(row.text)
        parts.append(f'<h2 id="{escape(row.clause_id)}" {weight}>{escape(heading)}</h2>\n'
                     f"<p {weight}>{escape(text)}</p>\n")
    parts.append("</div>\n</main>\n</body>\n</html>\n")
    return "".join(parts).encode()
