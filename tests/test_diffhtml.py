"""The rows of a changes page as generator/diffhtml.py writes them (diffmacros.html calls it)."""

from __future__ import annotations

from generator.diff import diff_texts
from generator.diffhtml import inline_rows, side_rows, unchanged_rows
from generator.diffmodel import Row

LABELS = {"old": "the <old> one", "new": "this one", "old_head": "Before & after", "new_head": "Now"}


def _rows(old: str, new: str) -> list[Row]:
    return [row for block in diff_texts(old, new, context=None).blocks for row in block.rows]


def test_text_labels_and_language_tags_are_escaped() -> None:
    rows = _rows("Keep <b>this</b>.\n\nGone <script>x</script>.", "Keep <b>this</b>.")
    html = side_rows(rows, LABELS, True, {"ui": "en", "old": 'de"><x', "new": "en"}) + inline_rows(rows)
    assert "<script>" not in html and "<b>" not in html and "&lt;script&gt;" in html
    assert '<th scope="col">Before &amp; after</th>' in html
    assert '<span class="diff-vh">not in this one</span>' in html  # the deleted paragraph's new side
    assert 'lang="de&#34;&gt;&lt;x"' in html and 'lang="de"><x' not in html


def test_a_moved_paragraph_links_its_other_place_on_its_own_side() -> None:
    moved = "A paragraph long enough to be moved elsewhere in the text."
    rows = _rows(f"{moved}\n\nOne.\n\nTwo.", f"One.\n\nTwo.\n\n{moved}")
    gone, back = (next(r for r in rows if r.kind == kind and r.moved) for kind in ("delete", "insert"))
    side = side_rows([gone, back], LABELS)
    assert side.count('<p class="diff-moved">') == 2
    assert f'Moved, unchanged, to  <a href="#change-{gone.moved}">' in side
    assert f'Moved here, unchanged, from  <a href="#change-{back.moved}">' in inline_rows([back])
    # the note sits in the cell of the side that holds the paragraph, never in the empty one
    body = str.split(side, "<tbody>")[1]  # (Markup.split would escape its separator)
    old_cell, new_cell = body.split("</tr>")[0].split("<td")[1:]
    assert "diff-moved" in old_cell and "diff-none" in new_cell


def test_only_text_in_another_language_than_the_site_is_marked() -> None:
    rows = _rows("Gleich.", "Gleich.")
    assert unchanged_rows(rows, {"ui": "en", "old": "de", "new": "de"}) == \
        '<div class="diff-unchanged"><div class="diff-text" lang="de">Gleich.</div></div>'
    assert unchanged_rows(rows, {"ui": "de", "old": "de", "new": "de"}) == \
        '<div class="diff-unchanged"><div class="diff-text">Gleich.</div></div>'
    assert unchanged_rows(rows) == '<div class="diff-unchanged"><div class="diff-text">Gleich.</div></div>'


def test_a_line_break_written_in_a_table_cell_is_shown_as_one() -> None:
    """Found by a review of the built site: 45 changes pages showed "<br><br>  <br>" as text, where
    Open Terms Archive's Markdown breaks lines inside table cells; the version pages already showed
    the breaks. Any other markup stays text."""
    rows = _rows("| Data | *   Company Group.<br>*   Service Providers. |\n",
                 "| Data | *   Company Group.<br>*   Advertising Partners.<BR> <script>x</script> |\n")
    html = inline_rows(rows) + side_rows(rows, LABELS)
    assert "&lt;br" not in html.lower() and "<br>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
