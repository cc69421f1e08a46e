"""Earlier wording for search (earlier.py): which clauses of a version the next one no longer has,
and the record Pagefind is shown for them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from generator.clauses import split_clauses
from generator.earlier import RecordContext, Superseded, from_stored, record_html, stored, superseded

OLD = """# Terms

## Your content

We may use your content to train our models. You keep ownership of your content.

You keep ownership of your content.

- We share data with partners.
- We delete data after 30 days.

## Disputes

Any dispute will be settled by binding arbitration.
"""

NEW = """# Terms of Use

## Disputes

You may bring a claim in the courts where you live.

## Your content

You keep ownership of your content.

- We delete data after 30 days.
- We share data with partners!
"""


def test_superseded_are_the_old_clauses_whose_wording_the_new_text_lacks() -> None:
    rows = superseded(split_clauses(OLD), split_clauses(NEW))
    assert [r.text for r in rows] == ["We may use your content to train our models.",
                                      "Any dispute will be settled by binding arbitration."]
    # A heading reworded ("Terms" → "Terms of Use") is not a provision; moved clauses, a clause
    # repeated in the old text (its "-2" id) and one with different punctuation keep their wording.
    assert [r.heading for r in rows] == ["Your content", "Disputes"]
    old_ids = {c.text: c.id for c in split_clauses(OLD)}
    assert [r.clause_id for r in rows] == [old_ids[r.text] for r in rows]  # the anchors on its page


def test_nothing_is_superseded_between_equal_wordings() -> None:
    assert superseded(split_clauses(OLD), split_clauses(OLD)) == []
    assert len(superseded(split_clauses(OLD), [])) == 5  # each distinct wording once


def test_rows_survive_the_cache_and_a_damaged_entry_is_refused() -> None:
    rows = superseded(split_clauses(OLD), split_clauses(NEW))
    assert from_stored(stored(rows)) == rows
    for damaged in (None, {"a": 1}, [["c-1", "h"]], [[1, 2, 3]], "text"):
        assert from_stored(damaged) is None


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append(dict(attrs))


CONTEXT = RecordContext("en", "Example Terms of Service", "Example", "Terms of Service",
                        "2024-01-01 00:00:00 UTC", "2024-02-01 00:00:00 UTC", "de")


def test_a_record_is_text_only_whatever_the_captured_wording() -> None:
    hostile = Superseded("c-0123456789ab", '<img src=x onerror="alert(1)">',
                         '<script>alert(2)</script> & "quoted" <a href="javascript:x">link</a>')
    html = record_html(CONTEXT, [hostile]).decode()
    parsed = _Elements()
    parsed.feed(html)
    assert not {"script", "img", "a"} & set(parsed.tags)
    assert "&lt;script&gt;alert(2)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    # each clause is a heading carrying its anchor (Pagefind makes it a sub-result linking there)
    [heading] = [a for t, a in zip(parsed.tags, parsed.attrs, strict=True) if t == "h2"]
    assert heading["id"] == "c-0123456789ab"
    assert heading["data-pagefind-weight"]
    filters = [a["data-pagefind-filter"] for a in parsed.attrs if "data-pagefind-filter" in a]
    assert filters == ["service", "document type", "wording:earlier"]
    assert re.search(r'<html lang="en">', html)  # Pagefind keeps one index per page language
    assert '<div lang="de">' in html  # the text's own language, as its version page marks it
    metas = [a["data-pagefind-meta"] for a in parsed.attrs if "data-pagefind-meta" in a]
    assert metas == ["title", "lang:de"]  # the search page marks the excerpts with it
    for language, div in (("en", "<div>"), ("", '<div lang="">')):  # the site's; not known
        other = record_html(CONTEXT._replace(text_language=language), [hostile]).decode()
        assert div in other and 'data-pagefind-meta="lang' not in other
    assert "as captured 2024-01-01 00:00:00 UTC: wording gone by 2024-02-01 00:00:00 UTC" in html
    # what every record says is its title and filters, never words a search finds it by
    parsed_ignored = html.split("<div data-pagefind-ignore>", 1)[1].split("</div>", 1)[0]
    assert "<h1" in parsed_ignored and 'data-pagefind-filter="service"' in parsed_ignored
