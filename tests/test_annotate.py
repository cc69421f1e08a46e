"""A version's text with its clause anchors and findings: the markers must always become
well-formed elements, wherever Markdown puts the text they were set in."""

from __future__ import annotations

import re

import lxml.html
import pytest

from generator.annotate import annotate
from generator.clauses import split_clauses
from generator.model import Finding

BASE = "https://service.example/terms"


def _finding(clause_id: str) -> Finding:
    return Finding("terminate-at-will", "high", "unilateral-termination", clause_id, "quote", 0, 5)


def _well_formed(html: str) -> bool:
    """No element written into another's tag: attributes as the renderer writes them, anchors only
    on our own elements."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return all(re.fullmatch(r"[a-z-]+", name) for el in root.iter() for name in el.attrib) \
        and all(el.tag in ("span", "mark") for el in root.xpath("//*[@id]"))


def test_every_clause_gets_an_anchor_and_a_finding_is_marked() -> None:
    text = "# Terms\n\nWe may close your account. You may leave at any time.\n"
    clauses = split_clauses(text)
    closing = next(c for c in clauses if c.text.startswith("We may close"))
    html = annotate(text, {closing.id: [_finding(closing.id)]}, BASE, {"terminate-at-will": "Closure"}).html
    ids = set(lxml.html.fragment_fromstring(html, create_parent="div").xpath("//@id"))
    assert ids == {c.id for c in clauses}
    assert f'<mark class="finding severity-high" id="{closing.id}">' in html
    assert "[high: Closure]" in html


def test_a_finding_across_inline_markup_is_flagged_at_its_start() -> None:
    text = "We may **close your account. You may** leave.\n"
    closing = split_clauses(text)[0]
    html = annotate(text, {closing.id: [_finding(closing.id)]}, BASE, {}).html
    assert f'<span class="clause finding-start severity-high" id="{closing.id}">' in html
    # One mark cannot wrap half of the bold text: each run of the clause's text gets its own.
    assert _well_formed(html), html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    parts = root.xpath("//mark[contains(@class, 'finding-part')]")
    assert "".join(m.text_content() for m in parts) == "We may close your account."
    assert all(m.get("class") == "finding finding-part severity-high" and m.get("id") is None for m in parts)


@pytest.mark.parametrize("text", [
    "1. ```1",  # found by fuzzing: the list item's clause starts in a code block's language
    "- ```We may end it.\n  code\n  ```\n",
    '[a link](https://service.example/x "We may end it. You agree.") and more text.\n',
    "> ~~~ We may end it.\n",
])
def test_markers_never_land_inside_a_tag(text: str) -> None:
    clauses = split_clauses(text)
    findings = {c.id: [_finding(c.id)] for c in clauses}
    for found in ({}, findings):
        html = annotate(text, found, BASE, {}).html
        assert _well_formed(html), html
        assert "\ue000" not in html and "\ue001" not in html and "\ue002" not in html
        root = lxml.html.fragment_fromstring(html, create_parent="div")
        assert set(root.xpath("//@id")) == {c.id for c in clauses}


def test_marker_characters_in_the_text_cannot_forge_an_anchor_or_a_finding() -> None:
    """The private-use characters our markers are made of, written in a captured text around a
    clause id anyone can compute, stay text: no second element with that id, no finding label on
    words the service chose."""
    flagged = "We may terminate your account at any time."
    clause_id = next(c.id for c in split_clauses(flagged))
    text = f"Welcome! \ue000{clause_id}\ue001Nothing to see here. \ue000main\ue001\n\n{flagged}\n"
    clauses = split_clauses(text)
    real = next(c for c in clauses if c.text == flagged)
    assert real.id == clause_id
    html = annotate(text, {real.id: [_finding(real.id)]}, BASE, {"terminate-at-will": "Closure"}).html
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    assert root.xpath("//@id").count(clause_id) == 1 and "main" not in root.xpath("//@id")
    assert [el.tag for el in root.xpath(f'//*[@id="{clause_id}"]')] == ["mark"]
    assert html.count("finding-label") == 1 and "Nothing to see here." in html
    assert "\ue000" not in root.text_content() and "\ufffd" in root.text_content()


def test_a_line_break_in_a_link_title_stays_in_the_title() -> None:
    """A `<br>` written in the text is a line break only between tags: in a link's title, turned
    into a tag it would end the attribute, and the clause markers with it."""
    text = "See [the link](https://x.example 'One thing. Two<br>things. Three') now.\n"
    html = annotate(text, {}, BASE, {}).html
    assert _well_formed(html), html
    link = lxml.html.fragment_fromstring(html, create_parent="div").xpath("//a")[0]
    assert link.get("title") == "One thing. Two<br>things. Three"
    assert link.get("rel") == "nofollow noopener noreferrer" and set(link.attrib) == {"href", "title", "rel"}
