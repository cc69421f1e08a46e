"""Word-level diffs (generator/diff.py), the changes page that renders them, and the browser-side
diff of compare.js (run under Node) that must agree with them."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lxml.html
import pytest

import generator.diff
from generator.diff import SECTION_NAME_CHARS, diff_texts, heading, split_paragraphs, tokenize
from generator.diffmodel import Change, Context, Gap, Row, Segment, TextDiff
from generator.render import make_environment

from .conftest import ROOT

THEME = ROOT / "themes" / "default"
MISTRAL = ROOT / "archive" / "mistral-ai" / "terms-of-service" / "versions"
HOSTILE = '<script>alert(1)</script> and "><img src=x onerror=alert(2)> & {{ 7*7 }} {% raw %}'


def rows(diff: TextDiff) -> list[Row]:
    return [row for block in diff.blocks for row in block.rows]


def inline(row: Row) -> list[tuple[str, str]]:
    return [(s.op, s.text) for s in row.inline]


def marked(diff: TextDiff) -> str:
    """The inline view as text: [-deleted-] and [+inserted+]."""
    marks = {"equal": "{}", "insert": "[+{}+]", "delete": "[-{}-]"}
    return "\n\n".join("".join(marks[s.op].format(s.text) for s in row.inline) for row in rows(diff))


def paragraphs(n: int, prefix: str = "Clause") -> list[str]:
    return [f"{prefix} {i}: the service may process your data for purpose number {i}."
            for i in range(1, n + 1)]


# -- tokens and paragraphs ---------------------------------------------------------------------

def test_tokens_keep_words_whole_and_join_back() -> None:
    text = "Mistral AI’s terms-of-use (v1.2), **1,000** euros…  see https://mistral.ai/x?a=1"
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert [t.strip() for t in tokens][:6] == ["Mistral", "AI’s", "terms-of-use", "(", "v1.2", "),"[0]]
    assert "**" in [t.strip() for t in tokens] and "1,000" in [t.strip() for t in tokens]


def test_paragraphs_split_on_blank_lines_only() -> None:
    text = "Title\n=====\n\nOne\nline two\n \n\n\nThree\r\n\r\nFour\n"
    assert split_paragraphs(text) == ["Title\n=====", "One\nline two", "Three", "Four"]
    assert split_paragraphs("") == [] and split_paragraphs("\n\n  \n") == []


def test_headings_are_recognised() -> None:
    assert heading("## 4.2. Your **Account** ##") == "4.2. Your Account"
    assert heading("5\\. Our Services\n----------------") == "5. Our Services"
    assert heading("Plain text\nwith two lines") is None
    assert heading("#hashtag is not a heading") is None
    # Only the line over a setext rule: captured texts run body lines into it.
    assert heading("We may end it.\n**Dispute Resolution**\n---") == "Dispute Resolution"
    assert heading("## [](#fees)Fees and [payment](https://example.com/pay)") == "Fees and payment"


def test_a_long_heading_is_cut_at_a_word() -> None:
    # A 6,000-character "section name" was read out in full by screen readers, in every change.
    title = heading("## " + "Word " * 40)
    assert title is not None and title.endswith("…") and len(title) <= SECTION_NAME_CHARS + 1
    assert title == " ".join(["Word"] * 16) + "…"
    assert heading("# " + "x" * 200) == "x" * SECTION_NAME_CHARS + "…"


# -- the diff ----------------------------------------------------------------------------------

def test_insertion() -> None:
    diff = diff_texts("You may use the service.", "You may not use the service.")
    (row,) = rows(diff)
    assert row.kind == "replace"
    assert inline(row) == [("equal", "You may "), ("insert", "not"), ("equal", " use the service.")]
    assert row.old_text == "You may use the service." and row.new_text == "You may not use the service."
    assert (diff.summary.words_added, diff.summary.words_removed, diff.summary.changes) == (1, 0, 1)


def test_deletion() -> None:
    diff = diff_texts("We will never sell your data.", "We will sell your data.")
    (row,) = rows(diff)
    assert inline(row) == [("equal", "We will "), ("delete", "never"), ("equal", " sell your data.")]
    assert [(s.op, s.text) for s in row.new] == [("equal", "We will sell your data.")]
    assert (diff.summary.words_added, diff.summary.words_removed) == (0, 1)


def test_replacement_reads_as_one_edit() -> None:
    diff = diff_texts("You may cancel at any time by email.",
                      "We may terminate your account at any time by email.")
    assert marked(diff) == "[-You may cancel-][+We may terminate your account+] at any time by email."
    assert (diff.summary.words_added, diff.summary.words_removed) == (5, 3)


def test_whole_paragraphs_inserted_and_deleted() -> None:
    old = "\n\n".join(["Intro.", "Old clause goes.", "Outro."])
    new = "\n\n".join(["Intro.", "Outro.", "A new clause arrives."])
    diff = diff_texts(old, new, context=None)
    kinds = [(r.kind, r.old_first, r.new_first) for r in rows(diff)]
    assert kinds == [("equal", 1, 1), ("delete", 2, None), ("equal", 3, 2), ("insert", None, 3)]
    assert [type(b) for b in diff.blocks] == [Context, Change, Context, Change]
    assert diff.summary.words_added == 4 and diff.summary.words_removed == 3


def test_reordered_paragraphs_are_marked_as_moves() -> None:
    old = "\n\n".join(["Alpha clause text.", "Beta clause text.", "Gamma clause text."])
    new = "\n\n".join(["Beta clause text.", "Gamma clause text.", "Alpha clause text."])
    diff = diff_texts(old, new)
    first, second = diff.changes
    assert first.rows[0].kind == "delete" and first.rows[0].moved == 2
    assert second.rows[0].kind == "insert" and second.rows[0].moved == 1
    summary = diff.summary
    assert (summary.moved, summary.words_moved, summary.words_added, summary.words_removed) == (1, 3, 0, 0)
    assert summary.percent_changed == 0 and summary.changes == 2


def test_a_move_inside_a_rewritten_stretch_is_still_found() -> None:
    # The last two paragraphs are one changed run [X-one, M] -> [X-two]; M moved to the top.
    base = ["Alpha clause.", "Beta clause.", "Gamma clause."]
    old = "\n\n".join([*base, "Clause X, version one.", "Moved clause text."])
    new = "\n\n".join(["Moved clause text.", *base, "Clause X, version two."])
    diff = diff_texts(old, new, context=None)
    assert [(r.kind, r.moved) for r in rows(diff)] == [
        ("insert", 2), ("equal", None), ("equal", None), ("equal", None), ("replace", None), ("delete", 1)]
    assert diff.summary.moved == 1 and (diff.summary.words_added, diff.summary.words_removed) == (1, 1)
    assert "[-one-][+two+]" in marked(diff)


def test_whitespace_only_changes_are_not_changes() -> None:
    old = "The  cat sat\non the mat.\n\nSecond paragraph."
    new = "The cat sat on the mat.\n\n\n\nSecond   paragraph.\n"
    diff = diff_texts(old, new)
    assert not diff.identical and diff.layout_only
    assert diff.summary.changes == 0 and diff.changes == ()
    assert diff.summary.percent_label == "0%"


def test_merged_paragraphs_are_layout_not_change() -> None:
    diff = diff_texts("One clause.\n\nTwo clause.", "One clause. Two clause.")
    assert diff.layout_only
    (row,) = rows(diff)
    assert row.old_first == 1 and row.old_last == 2 and row.new_first == row.new_last == 1


def test_identical_texts() -> None:
    text = "\n\n".join(paragraphs(10))
    diff = diff_texts(text, text)
    assert diff.identical and not diff.layout_only and diff.changes == ()
    assert len(diff.blocks) == 1 and isinstance(diff.blocks[0], Gap) and diff.blocks[0].count == 10
    assert diff.summary.words_added == diff.summary.words_removed == 0
    assert diff.summary.words_old == diff.summary.words_new == 120


@pytest.mark.parametrize(("old", "new", "added", "removed", "kind"), [
    ("", "", 0, 0, None),
    ("", "Hello there world.", 3, 0, "insert"),
    ("Hello there world.", "", 0, 3, "delete"),
    ("\n\n \n", "", 0, 0, None),
])
def test_empty_texts(old: str, new: str, added: int, removed: int, kind: str | None) -> None:
    diff = diff_texts(old, new)
    assert (diff.summary.words_added, diff.summary.words_removed) == (added, removed)
    assert [r.kind for r in rows(diff)] == ([kind] if kind else [])
    assert diff.summary.percent_label == ("100%" if kind else "0%")


def test_context_collapses_long_unchanged_stretches() -> None:
    old = paragraphs(30)
    new = list(old)
    new[14] = new[14].replace("process", "sell")
    diff = diff_texts("\n\n".join(old), "\n\n".join(new), context=2)
    shape = [(b.kind, len(b.rows)) for b in diff.blocks]
    assert shape == [("gap", 12), ("context", 2), ("change", 1), ("context", 2), ("gap", 13)]
    first_gap = diff.blocks[0]
    assert isinstance(first_gap, Gap) and first_gap.paragraphs == "1–12"
    change = diff.changes[0]
    assert change.anchor == "change-1" and change.old_paragraphs == change.new_paragraphs == "15"
    full = diff_texts("\n\n".join(old), "\n\n".join(new), context=None)
    assert [b.kind for b in full.blocks] == ["context", "change", "context"]
    assert sum(len(b.rows) for b in full.blocks) == 30
    with pytest.raises(ValueError):
        diff_texts("a", "b", context=-1)


def test_short_unchanged_stretches_between_changes_stay_visible() -> None:
    old = paragraphs(14)
    new = list(old)
    new[5], new[9] = "Changed six.", "Changed ten."
    diff = diff_texts("\n\n".join(old), "\n\n".join(new), context=2)
    shape = [(b.kind, len(b.rows)) for b in diff.blocks]
    assert shape == [("gap", 3), ("context", 2), ("change", 1), ("context", 3), ("change", 1), ("context", 2),
                     ("gap", 2)]
    assert [c.number for c in diff.changes] == [1, 2]
    # A fold would hide a single paragraph: it is shown instead.
    new = list(old)
    new[3] = "Changed four."
    assert [(b.kind, len(b.rows)) for b in diff_texts("\n\n".join(old), "\n\n".join(new)).blocks][:2] == [
        ("context", 3), ("change", 1)]


def test_changes_know_their_section() -> None:
    old = "# Terms\n\nIntro.\n\n## 3. Payment\n\nYou pay monthly.\n\n## 4. Liability\n\nWe are liable."
    new = old.replace("monthly", "yearly").replace("We are liable.", "We are never liable.")
    diff = diff_texts(old, new)
    assert [c.section for c in diff.changes] == ["3. Payment", "4. Liability"]


# Body text and the next section's heading, changed together, are one row: its paragraphs were read
# as one setext "heading" (the row ends in a rule) and named the section of every change after it.
BODY_THEN_HEADING = (
    ("## Fees\n\nYou pay monthly by card, and these terms apply to you.\n\n"
     "One.\n\nTwo.\n\nThree.\n\nCourts of Paris decide."),
    ("## Fees\n\nYou pay yearly by card, and these terms apply to you.\n\n"
     "Dispute Resolution\n------------------\n\nOne.\n\nTwo.\n\nThree.\n\nArbitrators in Geneva decide."))


def test_a_section_is_named_by_its_heading_line_only() -> None:
    first, second = diff_texts(*BODY_THEN_HEADING).changes
    assert first.rows[0].new_first != first.rows[0].new_last  # one row, two paragraphs
    assert (first.section, second.section) == ("Fees", "Dispute Resolution")


def test_summary_figures() -> None:
    old = "one two three four five six seven eight nine ten"
    new = "one two 3 four five six seven eight nine ten eleven twelve"
    summary = diff_texts(old, new).summary
    assert (summary.words_old, summary.words_new) == (10, 12)
    assert (summary.words_added, summary.words_removed) == (3, 1)
    assert summary.percent_changed == pytest.approx(100 * 4 / 22)
    assert summary.percent_label == "18.2%"
    assert diff_texts("a " * 5000, "a " * 4999 + "b").summary.percent_label == "<0.1%"
    assert diff_texts("x", "y").summary.percent_label == "100%"
    # Repetitive text with no word found once on each side still aligns (here: 10% changed).
    periodic = diff_texts("a b c d e f g h i j " * 200, "z " + "b c d e f g h i j k " * 200).summary
    assert periodic.percent_label == "10%"


def test_punctuation_only_change_is_a_change_without_words() -> None:
    diff = diff_texts("You agree to this.", "You agree to this!")
    assert diff.summary.changes == 1 and diff.summary.words_added == diff.summary.words_removed == 0
    assert marked(diff) == "You agree to this[-.-][+!+]"


def test_deterministic_across_processes() -> None:
    """No dependence on hash randomisation (set iteration order): two seeds, one structure."""
    code = ("import hashlib, pathlib, sys; from generator.diff import diff_texts; "
            "a, b = (pathlib.Path(p).read_text() for p in sys.argv[1:]); "
            "print(hashlib.sha256(repr(diff_texts(a, b)).encode()).hexdigest())")
    files = [str(MISTRAL / "2024-02-08T12-30-35Z.md"), str(MISTRAL / "2024-02-27T18-30-53Z.md")]
    digests = {subprocess.run([sys.executable, "-c", code, *files], cwd=ROOT, capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(digests) == 1


def test_hostile_text_stays_plain_strings() -> None:
    diff = diff_texts("Safe text.\n\nMore.", f"Safe text {HOSTILE}.\n\nMore.")
    segments = [s for row in rows(diff) for s in (*row.old, *row.new, *row.inline)]
    assert all(type(s) is Segment and type(s.text) is str for s in segments)
    assert any("<script>alert(1)</script>" in s.text for s in segments if s.op == "insert")
    assert "".join(s.text for s in rows(diff)[0].new) == f"Safe text {HOSTILE}."


def test_both_sides_rebuild_the_texts_of_real_versions() -> None:
    files = sorted(MISTRAL.glob("*.md"))
    assert len(files) > 10
    for old_file, new_file in itertools.pairwise(files):
        old, new = old_file.read_text(), new_file.read_text()
        diff = diff_texts(old, new, context=None)
        assert [r.old_text for r in rows(diff) if r.old] == _split_like_rows(diff, old, "old"), old_file.name
        assert [r.new_text for r in rows(diff) if r.new] == _split_like_rows(diff, new, "new"), new_file.name
        # And the rows, in order, hold each side's paragraphs once each, none skipped or repeated.
        assert "\n\n".join(r.old_text for r in rows(diff) if r.old) == "\n\n".join(split_paragraphs(old))
        assert "\n\n".join(r.new_text for r in rows(diff) if r.new) == "\n\n".join(split_paragraphs(new))
        for row in rows(diff):
            assert row.changed == any(s.op != "equal" for s in row.inline)


def test_cydifflib_gives_the_standard_librarys_diffs(monkeypatch: pytest.MonkeyPatch) -> None:
    """cydifflib (compiled difflib) is a dependency only for speed: every pair of consecutive
    versions in the committed archive diffs the same with the standard library's SequenceMatcher."""
    import difflib

    import generator.diff

    assert vars(generator.diff)["SequenceMatcher"] is not difflib.SequenceMatcher
    pairs = [(a.read_text(), b.read_text()) for folder in sorted((ROOT / "archive").glob("*/*/versions"))
             for a, b in itertools.pairwise(sorted(folder.glob("*.md")))]
    assert len(pairs) >= 20
    compiled = [diff_texts(old, new) for old, new in pairs]
    monkeypatch.setattr("generator.diff.SequenceMatcher", difflib.SequenceMatcher)
    monkeypatch.setattr("generator.wordalign.SequenceMatcher", difflib.SequenceMatcher)
    assert [diff_texts(old, new) for old, new in pairs] == compiled


def _split_like_rows(diff: TextDiff, text: str, side: str) -> list[str]:
    """The text's paragraphs, grouped as the diff's rows group them (by their paragraph numbers)."""
    paras = split_paragraphs(text)
    spans = [(r.old_first, r.old_last) if side == "old" else (r.new_first, r.new_last) for r in rows(diff)]
    return ["\n\n".join(paras[first - 1:last]) for first, last in spans if first is not None and last]


def test_long_texts_are_cut_before_word_alignment(monkeypatch: pytest.MonkeyPatch) -> None:
    """50,000 words: scattered edits, and a complete rewrite (where SequenceMatcher alone takes minutes).
    How long it takes is the benchmarks' business; this checks what keeps it short: no word-level
    SequenceMatcher is given more than DIRECT_LIMIT token pairs, the rest is cut at anchors first."""
    import generator.wordalign as wordalign

    pairs: list[int] = []
    compiled = wordalign.SequenceMatcher

    def recording(limit: int) -> Callable[..., Any]:
        def matcher(isjunk: None, a: Any, b: Any, autojunk: bool) -> Any:
            pairs.append(len(a) * len(b))
            assert pairs[-1] <= limit, "given too many pairs: it could run for minutes"
            return compiled(isjunk, a, b, autojunk=autojunk)
        return matcher

    monkeypatch.setattr("generator.wordalign.SequenceMatcher", recording(wordalign.DIRECT_LIMIT))
    # Paragraphs are aligned before their words.
    monkeypatch.setattr("generator.diff.SequenceMatcher", recording(generator.diff.PARAGRAPH_PAIRS_LIMIT))
    base = paragraphs(4200)
    old = "\n\n".join(base)
    scattered = "\n\n".join(p.replace("your", "all your") if i % 37 == 0 else p for i, p in enumerate(base))
    rewrite = "\n\n".join(f"Section {i}: we keep the logs of item {i * 7} for {i % 90} days."
                           for i in range(5000))
    # Found by review: 6,000 paragraphs of two repeated lines, then of three, had the paragraphs'
    # SequenceMatcher run for minutes at every build (it is cubic on such input).
    repeated = ("\n\n".join(f"The {i % 2} of it." for i in range(6000)),
                "\n\n".join(f"The {i % 3} of it." for i in range(6000)))
    for before, new in ((old, scattered), (old, rewrite), repeated):
        pairs.clear()
        diff = diff_texts(before, new)
        assert diff.summary.changes >= 1
        assert pairs
        if new is rewrite:
            # One changed run of about 59,000 x 70,000 token pairs: it was cut into small ones.
            assert sum(pairs) < 59_000 * 70_000 // 100


# -- the changes page --------------------------------------------------------------------------

class Anything(SimpleNamespace):
    """settings / site for base.html: whatever it asks for, a harmless string."""

    def __getattr__(self, name: str) -> str:
        return f"stub-{name}"


def version_view(versions: list[Path], index: int, kind: str) -> SimpleNamespace:
    vid = versions[index].stem
    return SimpleNamespace(
        id=vid, path=f"mistral-ai/terms-of-service/{vid}/", captured=f"captured {vid}",
        changes_path=f"mistral-ai/terms-of-service/{vid}/changes/", formatting_only=False, same_text_as=None,
        version=SimpleNamespace(kind=kind, captured_at=vid, sha256=f"sha256-of-{vid}"),
        previous_id=versions[index - 1].stem if index else None,
        next_id=versions[index + 1].stem if index + 1 < len(versions) else None,
        findings_added=(), findings_removed=(), findings_reworded=(), language="en", analysed=True,
        failed_capture="", compared_id=versions[index - 1].stem if index else None,
        pages_added=(), pages_removed=(), pages_against=None,
    )


def render_changes(old: str, new: str, kind: str = "change", index: int = 1) -> str:
    versions = sorted(MISTRAL.glob("*.md"))
    env = make_environment([THEME])  # the build's own environment: its filters and settings
    key = "mistral-ai/terms-of-service"
    doc = SimpleNamespace(title="Mistral AI Terms of Service", path=f"{key}/", history_path=f"{key}/history/",
                          key=key, version=lambda _: None)
    context: dict[str, Any] = {
        "doc": doc, "v": version_view(versions, index, kind),
        "prev": version_view(versions, index - 1, "first"),
        "diff": diff_texts(old, new), "root": "../../../../", "page_path": "x/changes/",
        "settings": Anything(language="en"), "site": Anything(),
    }
    return env.get_template("changes.html").render(context)


@pytest.fixture(scope="module")
def first_two() -> tuple[str, str]:
    versions = sorted(MISTRAL.glob("*.md"))
    return versions[0].read_text(), versions[1].read_text()


def test_changes_page_renders_real_versions(first_two: tuple[str, str]) -> None:
    old, new = first_two
    html = render_changes(old, new)
    tree = lxml.html.fromstring(html)
    diff = diff_texts(old, new)
    n = diff.summary.changes
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert [i for i in ids if i.startswith("change-") and not i.endswith("-title")] == \
        [f"change-{k}" for k in range(1, n + 1)]
    change_2 = tree.get_element_by_id("change-2")
    assert change_2.tag == "section" and change_2.get("tabindex") == "-1"
    neighbours = {a.get("href") for a in change_2.xpath(".//p[@class='diff-change-nav']/a")}
    assert neighbours == {"#change-1", "#change-3"}
    last = tree.get_element_by_id(f"change-{n}")
    assert [a.get("href") for a in last.xpath(".//p[@class='diff-change-nav']/a")] == [f"#change-{n - 1}"]
    # insertions and deletions, each with its screen-reader prefix, in both views
    ins, dels = tree.xpath("//div[@class='diff']//ins"), tree.xpath("//div[@class='diff']//del")
    assert ins and dels
    assert all(e[0].get("class") == "diff-vh" and e[0].text == "inserted: " for e in ins)
    assert all(e[0].get("class") == "diff-vh" and e[0].text == "deleted: " for e in dels)
    assert tree.xpath("//div[@class='diff-inline']//ins") and tree.xpath("//div[@class='diff-side']//td//del")
    # the text inside .diff-text is exactly the row's text (white-space: pre-wrap shows every space)
    for element in tree.xpath("//div[@class='diff']//div[@class='diff-text']"):
        for hidden in element.xpath(".//span[@class='diff-vh']"):
            hidden.drop_tree()
    texts = change_2.xpath(".//div[@class='diff-inline']//div[@class='diff-text']")
    shown = [e.text_content() for e in texts]
    assert shown == ["".join(s.text for s in row.inline) for row in diff.changes[1].rows]
    # summary figures
    figures = {dt.text: dt.getnext().text for dt in tree.xpath("//dl[@class='diff-figures']//dt")}
    assert figures["Words added"] == str(diff.summary.words_added)
    assert figures["Text changed"] == diff.summary.percent_label
    # neighbours: the previous version is the first (no changes page), the next one has one
    versions = sorted(MISTRAL.glob("*.md"))
    prev_link = tree.xpath("//nav[@class='pager']//a[@rel='prev']")[0].get("href")
    next_link = tree.xpath("//nav[@class='pager']//a[@rel='next']")[0].get("href")
    assert prev_link == f"../../../../mistral-ai/terms-of-service/{versions[0].stem}/"
    assert next_link == f"../../../../mistral-ai/terms-of-service/{versions[2].stem}/changes/"
    hrefs = {a.get("href") for a in tree.xpath("//section[@id='diff-summary']//a")}
    assert {f"../../../../mistral-ai/terms-of-service/{versions[i].stem}/" for i in (0, 1)} <= hrefs
    # assets in <head>, script external and deferred (the CSP forbids inline code)
    head = tree.find("head")
    assert head.xpath("link[@rel='stylesheet'][@href='../../../../assets/diff.css']")
    (script,) = tree.xpath("//script")
    assert script.getparent() is head and script.get("src") == "../../../../assets/diffnav.js"
    assert script.get("defer") is not None and not (script.text or "").strip()
    assert "Technical change" not in html


def test_changes_page_escapes_the_text(first_two: tuple[str, str]) -> None:
    old, new = first_two
    html = render_changes(old, new.replace("Preamble", f"Preamble {HOSTILE}", 1))
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "{{ 7*7 }}" in html
    tree = lxml.html.fromstring(html)
    assert [s.get("src") for s in tree.xpath("//script")] == ["../../../../assets/diffnav.js"]
    assert not tree.xpath("//img|//*[@onerror]")


def test_changes_page_labels_technical_changes(first_two: tuple[str, str]) -> None:
    html = render_changes(*first_two, kind="technical")
    tree = lxml.html.fromstring(html)
    (note,) = tree.xpath("//p[contains(@class, 'diff-technical')]")
    said = " ".join(note.text_content().split())
    assert "the text was extracted again after a selector or engine fix" in said
    # No more than the archive knows: the page may have changed in parts the old extraction left out.
    assert "did not change" not in said and "Read them before citing them as a change by the service" in said


def test_changes_page_when_nothing_changed_in_words() -> None:
    html = render_changes("One clause.\n\nTwo.", "One  clause.\nTwo.")
    assert "differ only in spacing and paragraph breaks" in html and 'id="change-1"' not in html
    said = " ".join(render_changes("We may end it.", "We may end it!").split())
    assert "No word was added or removed: only punctuation or formatting changed." in said
    moved = " ".join(render_changes("Alpha one.\n\nBeta two.\n\nGamma.",
                                    "Beta two.\n\nAlpha one.\n\nGamma!").split())
    assert "only punctuation, formatting or the order of paragraphs changed." in moved


# -- compare.js: the same diff in the browser ---------------------------------------------------

def run_node(cases: list[tuple[str, str]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found (Debian package nodejs): compare.js is tested under Node", pytrace=False)
    script = """
const c = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(([a, b]) => {
  const r = c.diffTexts(a, b);
  const rows = r.blocks.flatMap(block => block.rows);
  const side = key => rows.filter(row => row[key].length).map(row => row[key].map(s => s.text).join(""));
  const marks = {equal: "{}", insert: "[+{}+]", delete: "[-{}-]"};
  return {summary: r.summary, label: c.percentLabel(r.summary.percentChanged), identical: r.identical,
          kinds: r.blocks.map(b => b.kind), old: side("old"), new: side("new"),
          sections: r.blocks.filter(b => b.kind === "change").map(b => b.section || null),
          marked: rows.map(row => row.inline.map(s => marks[s.op].replace("{}", s.text)).join(""))
            .join("\\n\\n")};
});
process.stdout.write(JSON.stringify(out));
"""
    result = subprocess.run([node, "-e", script, str(THEME / "static" / "compare.js")],
                            input=json.dumps(cases), capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def test_compare_js_agrees_with_the_python_diff() -> None:
    cases = [
        ("You may use the service.", "You may not use the service."),
        ("We will never sell your data.", "We will sell your data."),
        ("You may cancel at any time by email.", "We may terminate your account at any time by email."),
        ("Alpha clause text.\n\nBeta clause text.\n\nGamma clause text.",
         "Beta clause text.\n\nGamma clause text.\n\nAlpha clause text."),
        ("The  cat sat\non the mat.\n\nSecond.", "The cat sat on the mat.\n\n\nSecond."),
        ("", "Hello there world."),
        ("", ""),
        ("Safe text.", f"Safe text {HOSTILE}."),
        ("\n\n".join(paragraphs(30)), "\n\n".join(paragraphs(30)).replace("number 15.", "number fifteen.")),
        ("# Terms\n\n#### Last updated: 1 May 2024\n\nWe may end it.\n\n## Fees\n\nDue monthly.",
         "# Terms\n\n#### Last updated: 1 May 2024\n\nWe may end or pause it.\n\n## Fees\n\nDue yearly."),
        BODY_THEN_HEADING,
        ("## " + "Long heading " * 20 + "\n\nOld.", "## " + "Long heading " * 20 + "\n\nNew."),
        ("## [](#a)A [b](https://b.example/) c\n\nOld.", "## [](#a)A [b](https://b.example/) c\n\nNew."),
    ]
    for (old, new), js in zip(cases, run_node(cases), strict=True):
        diff = diff_texts(old, new)
        s, figures = diff.summary, js["summary"]
        assert (figures["wordsAdded"], figures["wordsRemoved"]) == (s.words_added, s.words_removed)
        assert figures["changes"] == s.changes and figures["moved"] == s.moved
        assert js["label"] == s.percent_label and js["identical"] == diff.identical
        assert js["kinds"] == [b.kind for b in diff.blocks]
        assert js["marked"] == marked(diff), (old, new)
        assert js["sections"] == [c.section for c in diff.changes], (old, new)


def test_compare_js_rebuilds_real_versions() -> None:
    files = sorted(MISTRAL.glob("*.md"))[:8]
    pairs = [(a.read_text(), b.read_text()) for a, b in itertools.pairwise(files)]
    for (old, new), js in zip(pairs, run_node(pairs), strict=True):
        assert "\n\n".join(js["old"]) == "\n\n".join(split_paragraphs(old))
        assert "\n\n".join(js["new"]) == "\n\n".join(split_paragraphs(new))
        python = diff_texts(old, new).summary
        assert js["summary"]["wordsOld"] == python.words_old and js["summary"]["wordsNew"] == python.words_new
        # LCS (JS) and SequenceMatcher (Python) may align a rewrite differently, never by much
        assert abs(js["summary"]["percentChanged"] - python.percent_changed) < 1.0


def test_compare_js_never_writes_html() -> None:
    source = (THEME / "static" / "compare.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("):
        assert sink not in source


def test_diffs_survive_the_build_cache_unchanged() -> None:
    """diffcodec: every diff between consecutive committed versions, and the edge cases (identical,
    emptied, moved paragraphs), comes back equal after a trip through JSON."""
    from generator.archive import load_archive
    from generator.diffcodec import diff_from_json, diff_to_json

    pairs = [(a.read_text(), b.read_text()) for doc in load_archive(ROOT / "archive").documents
             for a, b in itertools.pairwise(doc.versions)]
    pairs += [("Same.\n", "Same.\n"), ("Gone.\n", ""), ("A.\n\nB.\n\nC.\n", "C.\n\nA.\n\nB.\n"),
              ("Spaced  out.\n\nEnd.\n", "Spaced out.\n\nEnd!\n")]  # equal paragraphs, different spacing
    assert len(pairs) > 100
    for old, new in pairs:
        diff = diff_texts(old, new)
        assert diff_from_json(json.loads(json.dumps(diff_to_json(diff, new))), new) == diff
    # An unchanged paragraph's text is not stored: it is read back from the new text.
    old, new = "Kept paragraph.\n\nOld.\n", "Kept paragraph.\n\nNew.\n"
    stored = json.dumps(diff_to_json(diff_texts(old, new), new))
    assert "Kept paragraph" not in stored and "Old" in stored and "New" in stored


def test_a_heading_that_only_dates_the_text_names_no_section() -> None:
    old = ("# Acme Terms\n\n#### Last Updated: August 29, 2025\n\nWe may end your account.\n\n"
           "## Fees\n\nFees are due monthly.\n")
    new = old.replace("We may end", "We may suspend or end").replace("due monthly", "due yearly")
    first, second = diff_texts(old, new).changes
    assert first.section == "Acme Terms" and second.section == "Fees"
    dated = diff_texts("#### Effective: 1 May 2024\n\nA.\n", "#### Effective: 1 May 2024\n\nB.\n")
    assert dated.changes[0].section is None
