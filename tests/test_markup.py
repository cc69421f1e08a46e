"""Captured text is hostile: nothing in it may execute or load from elsewhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lxml.html
import markdown_it_pyrs
import pytest

from generator import markup, markupfallback
from generator.markup import (
    _line_breaks,
    _parser,
    _render_block,
    _rewrite,
    _shift_headings,
    markdown_blocks,
    render_markdown,
)
from generator.tabledelimiters import repaired_tables

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](https://tracker.example/p.gif)",
    '<iframe src="https://evil.example/"></iframe>',
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text: str) -> None:
    html = render_markdown(text, "https://service.example/terms")
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    assert not tree.xpath("//script|//img|//iframe|//svg|//style|//object|//embed")
    for element in tree.iter():
        assert not any(name.startswith("on") for name in element.attrib), html
        href = element.get("href", "")
        assert href.startswith(("https://", "http://", "mailto:")) or not href, html


def test_image_becomes_a_labelled_link() -> None:
    html = render_markdown("![Company logo](/logo.png)", "https://service.example/legal/terms")
    assert '<a class="image-link" href="https://service.example/logo.png"' in html
    assert "[image: Company logo]" in html


def test_relative_links_point_to_the_service_not_to_us() -> None:
    html = render_markdown("[privacy](/privacy) and [section](#s2)", "https://service.example/terms")
    assert 'href="https://service.example/privacy"' in html
    assert 'href="https://service.example/terms#s2"' in html
    assert "rel=\"nofollow noopener noreferrer\"" in html


def test_the_same_block_links_to_each_documents_own_service() -> None:
    """Blocks are rendered once and remembered: one with a link is remembered per base URL."""
    for text in ("See [our privacy notice](/privacy).\n", "Write to [us](contact) or by post.\n",
                 "![logo](logo.png) here\n"):
        first = render_markdown(text, "https://one.example/legal/terms")
        second = render_markdown(text, "https://two.example/legal/terms")
        assert "https://one.example/" in first and "https://two.example/" not in first
        assert "https://two.example/" in second and "https://one.example/" not in second
    plain = "We may change these terms at any time.\n"
    assert render_markdown(plain, "https://one.example/") == render_markdown(plain, "https://two.example/")


def test_a_block_with_only_absolute_targets_is_shared_and_still_right() -> None:
    """A block whose links are all absolute renders the same under any base and is rendered once;
    one with a relative target anywhere, or a reference definition, is still resolved per base."""
    bases = ("https://one.example/legal/terms", "https://two.example/legal/terms")
    for text in ("Read [the FAQ](https://help.example/faq) or [mail us](mailto:a@help.example).\n",
                 "![chart]( <HTTPS://cdn.example/c.png> ) and <https://x.example/y>\n"):
        _render_block.cache_clear()
        first, second = (render_markdown(text, base) for base in bases)
        assert first == second and "one.example" not in first and _render_block.cache_info().misses == 1
        whole = _rewrite(_parser.render(text), bases[0])
        assert first == whole
    for text in ("[FAQ](https://help.example/faq) then [terms](/terms)\n",
                 "[FAQ](https://help.example/faq) then [top](#top)\n",
                 "See [the terms][t].\n\n[t]: /terms\n"):
        first, second = (render_markdown(text, base) for base in bases)
        assert "one.example" in first and "two.example" in second, text
    _render_block.cache_clear()
    schemeless = "[FAQ](//help.example/faq)\n"  # takes the base's scheme
    rendered = [render_markdown(schemeless, base) for base in ("http://a.example/", bases[0])]
    assert [html.split('"')[1] for html in rendered] == ["http://help.example/faq", "https://help.example/faq"]


def test_relative_links_without_a_base_are_unlinked() -> None:
    assert render_markdown("[privacy](/privacy)") == "<p><a>privacy</a></p>\n"


def test_tables_and_structure_survive() -> None:
    html = render_markdown("Title\n=====\n\n1\\. not a list\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n")
    assert "<h1>Title</h1>" in html and "<td>1</td>" in html and "<s>old</s>" in html
    assert "<p>1. not a list</p>" in html


# Texts whose blocks interact across blank lines: rendering them piece by piece must not differ.
TRICKY = [
    "- a\n\n- b\n\nafter the loose list\n",
    "- a\n- b\n\nnot in the list\n\n- a new list\n",
    "1. one\n\n2. two\n\n10) ten\n\n3.5% is not a list\n\n2019 was a year\n",
    "* item\n\n  continued inside the item\n\n    indented code in the item\n\nout\n",
    "> quoted\n\n> another quote\n\nplain\n",
    "```\nfenced\n\nstill fenced\n```\n\nafter\n",
    "  ~~~\n  fence in a list-like indent\n\n~~~\n\nafter\n",
    "See [the policy][p].\n\nMore text.\n\n[p]: https://service.example/policy\n",
    "Heading\n=======\n\ntext\n\n---\n\n***\n\n* * *\n\n-notalist\n\n+plus\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n|---|\n| 3 |\n",
    "para\r\n\r\nwindows lines\r\n\r\n- item\r\n",
    "    indented code\n\n    more code\n\nthen text\n",
    "-\n\n  empty item then content\n\nplain\n",
    "# H1\n\n### H3\n\n## H2\n\n#### H4\n\n##### H5\n",
    "a\n\n\n\nb\n\n \n\t\nc",
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("heading_base", [None, 3])
def test_block_by_block_rendering_equals_whole_text_rendering(text: str, heading_base: int | None) -> None:
    whole = _rewrite(_parser.render(repaired_tables(text)), "")
    if heading_base:
        whole = _shift_headings(whole, heading_base)
    assert render_markdown(text, None, heading_base) == whole


def test_blocks_cover_the_text_and_split_where_safe() -> None:
    text = "para one\n\n- a\n\n- b\n\npara two\n\n1. x\n"
    # A list may go on across blank lines: a block ends only before a line that cannot be an item.
    assert markdown_blocks(text) == ["para one\n\n- a\n\n- b\n\n", "para two\n\n1. x\n"]
    fenced = "```\ncode\n\nmore\n```\n\nafter\n"
    assert markdown_blocks(fenced) == [fenced]


def test_committed_archive_renders_the_same_block_by_block() -> None:
    texts = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "archive").rglob("versions/*.md"))]
    assert len(texts) > 20
    for text in texts:
        rendered = _rewrite(_parser.render(repaired_tables(text)), "https://service.example/terms")
        whole = _line_breaks(_shift_headings(rendered, 3))
        assert render_markdown(text, "https://service.example/terms", 3) == whole


def test_headings_are_shifted_under_the_page_outline() -> None:
    html = render_markdown("# Terms\n\n### Skipped a level\n\n## Back up\n\n#### Deeper\n", None, 3)
    assert [line[:4] for line in html.splitlines()] == ["<h3>", "<h4>", "<h4>", "<h5>"]


POLICY_CASES = [
    "Call [+353 1 533 9837](tel:+35315339837) or write to [us](about:blank).\n",
    "[![logo **bold**](https://cdn.example/l.png \"t\")](https://service.example/ \"home\")\n",
    "![pixel](data:image/gif;base64,R0lGODlhAQABAAAAACw=) ![rel](img/a.png)\n",
    "| | |\n|---|:--|\n| 1 | 2 |\n\n| a |\n|---|\n| b |\n",
    "\u00a0Spaced\u00a0paragraph\u00a0\n\n- **Item:**\u00a0\n  - nested\n\n#\u00a0Heading\u00a0\n",
    "[a & b](/a?x=1&y=\"2\") <mailto:privacy@service.example> <https://service.example/a_b>\n",
    "[see <https://other.example/> or <mailto:a@b.example>](/one) and [x ![i](/i.png)](/two)\n",
]

# Texts on which markdown-it.rs 0.6 panics (an unclosed backtick after an opening bracket): found by
# fuzzing; a captured page may hold any of them, and the build must go on.
PANICS = [
    "[`",
    "Read our [Don`t Sell My Info](https://service.example/dns) page.\n",
    "Press [Ctrl+`] to open the console.\n\n- an item\n",
    "| a | [b` |\n|---|---|\n| 1 | 2 |\n",
    "  ~~:'> #)- http://x.y/![![a](b)> ~\u00a0_`",
]


@pytest.mark.parametrize("text", PANICS)
def test_markdown_that_crashes_the_rust_parser_is_rendered_by_markdown_it_py(text: str) -> None:
    with pytest.raises(BaseException) as crash:
        markdown_it_pyrs.MarkdownIt("commonmark").render(text)
    assert type(crash.value).__name__ == "PanicException"  # the reason for the fallback, still there
    base = "https://service.example/legal/terms"
    assert render_markdown(text, base) == markupfallback.render(text, base)
    assert "<script" not in render_markdown(text + "\n\n<script>alert(1)</script>\n", base)


def test_a_panic_elsewhere_in_the_rust_parser_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same exception the real panic raises, from a block without "[" and "`".
    with pytest.raises(BaseException) as crash:
        markdown_it_pyrs.MarkdownIt("commonmark").render("[`")

    class Panicking:
        def render(self, text: str) -> str:
            raise crash.value

    monkeypatch.setattr(markup, "_parser", Panicking())
    _render_block.cache_clear()
    try:
        text = "We may **end** your [account](/help).\n"
        assert render_markdown(text, "https://service.example/") == markupfallback.render(
            text, "https://service.example/")
    finally:
        _render_block.cache_clear()


def test_other_errors_of_the_rust_parser_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing:
        def render(self, text: str) -> str:
            raise MemoryError

    monkeypatch.setattr(markup, "_parser", Failing())
    _render_block.cache_clear()
    try:
        with pytest.raises(MemoryError):
            render_markdown("plain text\n")
    finally:
        _render_block.cache_clear()


@pytest.mark.parametrize("text", POLICY_CASES + HOSTILE + TRICKY)  # (PANICS: the test above)
def test_the_renderer_agrees_with_markdown_it_py(text: str) -> None:
    base = "https://service.example/legal/terms"
    assert render_markdown(text, base) == markupfallback.render(text, base)


def test_the_renderer_agrees_with_markdown_it_py_on_the_committed_archive() -> None:
    texts = [f.read_text(encoding="utf-8") for f in sorted((ROOT / "archive").rglob("versions/*.md"))]
    assert len(texts) > 200
    for text in texts:
        base = "https://service.example/terms"
        assert render_markdown(text, base) == _line_breaks(markupfallback.render(text, base))


def test_a_line_break_written_in_a_table_cell_breaks_the_line_and_nothing_else_is_html() -> None:
    # Open Terms Archive's texts break lines inside table cells with <br>, the only way Markdown has.
    html = render_markdown("| a |\n|---|\n| x<br>y<BR/>z `<br>` |\n\n<br onclick=x> <b>b</b> <br />\n", None)
    assert "<td>x<br>y<br>z <code>&lt;br&gt;</code></td>" in html
    assert "<p>&lt;br onclick=x&gt; &lt;b&gt;b&lt;/b&gt; <br></p>" in html


def test_quotes_read_as_one_line_of_visible_text() -> None:
    from generator.markup import quote_text

    assert quote_text("Changes.\ufeff\ufeff We may<br>change  these<BR />terms\u2060 any\u00adtime.") == \
        "Changes. We may change these terms anytime."


def test_an_autolink_inside_a_link_stays_text() -> None:
    # Found by fuzzing: markdown-it nests the two links, which HTML forbids.
    html = render_markdown("[read <https://other.example/> now](/terms) and <https://a.example/>\n",
                           "https://service.example/")
    assert html == ('<p><a href="https://service.example/terms" rel="nofollow noopener noreferrer">'
                    "read https://other.example/ now</a> and "
                    '<a href="https://a.example/" rel="nofollow noopener noreferrer">https://a.example/</a></p>\n')


def test_a_link_to_a_phone_keeps_its_text_and_loses_its_target() -> None:
    assert render_markdown("[call us](tel:+1555)") == "<p><a>call us</a></p>\n"


def test_a_table_whose_delimiter_row_miscounts_its_columns_still_renders_as_a_table() -> None:
    # As Perplexity's privacy policy gives its CCPA table: two header cells over three delimiters.
    text = ("| Category of data | Recipients |\n| --- | --- | --- |\n| Identifiers, such as a name | "
            "Service providers.<br>Advertisers. |\n| Escaped \\| pipe | Partners |\n")
    html = render_markdown(text)
    assert html.count("<th>") == 2 and html.count("<td>") == 4 and "| --- |" not in html
    assert "<td>Escaped | pipe</td>" in html
    assert repaired_tables("| a | b |\n| --- | --- |\n") == "| a | b |\n| --- | --- |\n"  # a right one stays
    assert repaired_tables("a | b\n:--- | ---: | ---\n") == "a | b\n| --- | --- |\n"


def test_a_block_nested_past_any_real_text_is_rendered_not_fatal() -> None:
    """Found by a security review: one imported version holding a line of 80,000 list markers made
    every build die in markdown-it.rs (a segfault: no message, no file named). Run in a child
    process, so that a crash fails this test rather than ending the suite."""
    from generator.markup import _too_deep

    script = ("import sys; from generator.markup import render_markdown\n"
              "for text in ('Terms.\\n\\n' + '* ' * 80000 + 'word\\n', '>' * 100000 + ' quoted'):\n"
              "    html = render_markdown(text)\n"
              "    assert 'word' in html or 'quoted' in html, html[:200]\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _too_deep("> " * 100 + "x") and _too_deep("- 1. " * 50 + "x")
    assert not _too_deep("* a list item\n  * nested\n\n> a quote\n\n***bold italic***\n" + "-" * 200)
    assert "<strong>a</strong>" in render_markdown("*" * 1000 + "a" + "*" * 1000)  # the other renderer


def test_text_stored_backwards_under_a_bidi_override_is_shown_as_stored() -> None:
    """Found by a security review: letters stored backwards inside U+202E ... U+202C showed as
    "binding arbitration", which no rule read (the rules read what is stored). The page, its
    quotes and its diffs show the text without the controls."""
    from generator.diffhtml import diff_segments
    from generator.diffmodel import Segment
    from generator.markup import quote_text

    stored = "All disputes go to \u202enoitartibra gnidnib\u202c."
    assert "\u202e" not in render_markdown(stored) and "noitartibra gnidnib" in render_markdown(stored)
    assert quote_text(stored) == "All disputes go to noitartibra gnidnib."
    shown = str(diff_segments([Segment("insert", stored)]))
    assert "noitartibra gnidnib" in shown and "\u202e" not in shown and "\u202c" not in shown


def test_a_table_of_millions_of_cells_is_shown_as_written() -> None:
    """Found by a security review: 25 KB of imported text (a header of 3,000 columns over 3,000
    one-cell rows) rendered as a 90 MB page, at 1.8 GB of memory."""
    header = "| " + " | ".join(f"c{i}" for i in range(3000)) + " |\n|" + "---|" * 3000 + "\n"
    text = header + "".join(f"| r{i} |\n" for i in range(3000))
    html = render_markdown(text)
    assert "<table" not in html and len(html) < 2 * len(text) and "r2999" in html
    real = "| a | b |\n|---|---|\n" + "".join(f"| r{i} | x |\n" for i in range(2000))
    assert "<table>" in render_markdown(real)


def test_a_credit_line_gets_its_addresses_as_links_and_nothing_else() -> None:
    from generator.addresses import linked_addresses

    html = linked_addresses('PGA v2 (https://doi.org/10.26092/elib/2373); licence https://e.org/A_(b). '
                            '<script>x</script> "https://x.org/?a=1&b=2"')
    assert '(<a href="https://doi.org/10.26092/elib/2373">https://doi.org/10.26092/elib/2373</a>);' in html
    assert '<a href="https://e.org/A_(b)">https://e.org/A_(b)</a>.' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://x.org/?a=1&amp;b=2">' in html
