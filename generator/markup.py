"""Captured Markdown → safe HTML. Captured text is hostile input: nothing in it may execute
or make the reader's browser contact a third party."""

from __future__ import annotations

import functools
import re
from html import unescape

import markdown_it_pyrs

from . import markupfallback
from .linktarget import ABSOLUTE_TARGET, resolve_link
from .tabledelimiters import repaired_tables, table_cells


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


_REL = ' rel="nofollow noopener noreferrer"'
# With raw HTML off, every tag in the parser's output is its own, so its output can be rewritten
# safely: links, images and empty table header rows. One literal "<" starts them all, which lets
# the regex engine skip from one "<" to the next.
_REWRITTEN = re.compile(
    r'<(?:a href="(?P<href>[^"]*)"(?P<title> title="[^"]*")?>|(?P<close>/a>)'
    r'|img src="(?P<src>[^"]*)" alt="(?P<alt>[^"]*)"(?: title="[^"]*")? />'
    r"|thead>\n<tr>\n(?:<th[^>]*></th>\n)+</tr>\n</thead>\n)")
# markdown-it trims paragraphs, headings and cells of all Unicode spaces (str.strip), its Rust
# port of ASCII ones only: the others are trimmed here.
_UNICODE_SPACES = re.compile(r"[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_ASCII_SPACES = " \t\f\v\r"
_OPENING = ("<p>", "<li>", "<td>", "<th>", "<h1>", "<h2>", "<h3>", "<h4>", "<h5>", "<h6>")
_CLOSING = re.compile(r"</(?:p|li|td|th|h[1-6])>|\n<[ou]l[ >]")


def _trim(html: str) -> str:
    pieces, last = [], 0
    for m in _UNICODE_SPACES.finditer(html):  # found fast: it starts with a rare character
        start, end = m.start(), m.end()
        while start > last and html[start - 1] in _ASCII_SPACES:
            start -= 1
        while end < len(html) and html[end] in _ASCII_SPACES:
            end += 1
        if html.endswith(_OPENING, 0, start) or _CLOSING.match(html, end):
            pieces.append(html[last:start])
            last = end
    pieces.append(html[last:])
    return "".join(pieces)


def _rewrite(html: str, base_url: str) -> str:
    kept: list[bool] = []  # the links open at this point, and whether each keeps its tag

    def rewritten(m: re.Match[str]) -> str:
        opened = len(kept)
        if m.group("close"):
            return "</a>" if not kept or kept.pop() else ""
        if m.group("href") is not None:
            # An autolink inside a link's text would nest links, which HTML forbids: it stays text.
            kept.append(not opened)
            if opened:
                return ""
            # Links are the service's, not ours: resolve relative ones against the page they were
            # captured from, so none of them lands inside our site. Other schemes (tel:,
            # about:) lose their target.
            href, title = resolve_link(base_url, unescape(m.group("href"))), m.group("title") or ""
            if href.lower().startswith(("http://", "https://")):
                return f'<a href="{_escape(href)}"{title}{_REL}>'
            if href.lower().startswith("mailto:"):
                return f'<a href="{_escape(href)}"{title}>'
            return f"<a{title}>"
        if m.group("src") is not None:
            # Images would be fetched from the service's servers (a tracking pixel, in effect):
            # show their description and link to them instead.
            src = resolve_link(base_url, unescape(m.group("src")))
            label = f"[image: {_escape(unescape(m.group('alt')) or 'image')}]"
            if src.lower().startswith(("http://", "https://")) and not opened:  # no link in a link
                return f'<a class="image-link" href="{_escape(src)}"{_REL}>{label}</a>'
            return f'<span class="image-link">{label}</span>'
        return ""  # an empty header row: it would be announced as empty headers

    return _trim(_REWRITTEN.sub(rewritten, html))


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _shift_headings(html: str, base: int) -> str:
    """Captured headings sit under our page's own h1 and h2: map the levels the text uses onto
    consecutive levels from `base` down, so the outline never skips a level. Raw HTML in captured
    text is escaped, so every <hN> tag here is a Markdown heading's."""
    used = sorted({int(level) for closing, level in _HEADING_TAG.findall(html) if not closing})
    levels = {level: min(6, base + i) for i, level in enumerate(used)}
    previous = base - 1

    def retag(m: re.Match[str]) -> str:
        nonlocal previous
        if not m.group(1):  # never deeper than one below the heading before it
            previous = min(levels[int(m.group(2))], previous + 1)
        return f"<{m.group(1)}h{previous}>"

    return _HEADING_TAG.sub(retag, html)


# CommonMark with tables and strikethrough, without raw HTML: markdown-it's Rust port, which
# refuses javascript:, vbscript:, file: and data: links as markdown-it does.
_parser = markdown_it_pyrs.MarkdownIt("zero").enable_many([
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
    "autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline",
    "strikethrough", "table"])


# A blank line followed by an unindented line that cannot continue a list starts a new top-level
# block; a text with reference definitions (global to the text) or code fences (which may hold
# blank lines) is rendered whole.
_BLOCK_START = re.compile(r"\n[ \t]*\n(?=[^\s\d*+-]|\d{1,9}[^\d.)]|\d{1,9}[.)]\S|[*+-]\S)")
_WHOLE_TEXT_ONLY = re.compile(r"\]:|^[ \t>]*(```|~~~)", re.MULTILINE)


def markdown_blocks(text: str) -> list[str]:
    """The text cut into pieces that Markdown renders independently: rendering each and joining
    the results gives the same HTML as rendering the whole (tests/test_markup.py checks it)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _WHOLE_TEXT_ONLY.search(text):
        return [text]
    blocks, last = [], 0
    for m in _BLOCK_START.finditer(text):
        blocks.append(text[last:m.end()])
        last = m.end()
    blocks.append(text[last:])
    return blocks


# A link or image target that is not absolute: one that the base URL resolves.
_RELATIVE_TARGET = re.compile(rf"\]\((?!\s*<?(?:{ABSOLUTE_TARGET}))", re.IGNORECASE)


def _reads_base(block: str) -> bool:
    """False when the block renders the same whatever the base URL, so that it is rendered once
    for every document that shares it. Only links and images read the base, and only through a
    target: inline ones follow "](" (an absolute one ignores the base), reference ones a
    definition "[x]: target" (any block with one reads it). An autolink is always absolute."""
    return "[" in block and ("]:" in block or _RELATIVE_TARGET.search(block) is not None)


# markdown-it.rs has no bound on nesting: a line of 80,000 list markers or blockquote signs, or a
# run of 300,000 emphasis signs, exhausts its stack and the process dies (a segfault: no panic to
# catch). markdown-it-py caps nesting, and drops what lies deeper. Such a block is no document's
# prose (the bounds are far above any real text and far below where the crashes start, in the tens
# of thousands): it is shown as written, every character of it.
# (A list marker needs a space after it: a line of dashes is a rule or a heading's underline.)
_DEEP_CONTAINERS = re.compile(r"^[ \t]*(?:(?:>|[*+-][ \t]|\d{1,9}[.)][ \t])[ \t]*){100}", re.M)
_LONG_DELIMITER_RUN = re.compile(r"[*_]{1000}")  # markdown-it-py renders these whole


# Ten times the cells capture keeps of a table (htmlmd.MAX_TABLE_CELLS): a bigger one comes from
# an import, and rendered would make a page of tens of megabytes (shown as written instead).
MAX_TABLE_CELLS = 100_000


def _too_deep(block: str) -> bool:
    return _DEEP_CONTAINERS.search(block) is not None or table_cells(block) > MAX_TABLE_CELLS


@functools.lru_cache(maxsize=8192)
def _render_block(block: str, base_url: str) -> str:
    # Versions of a document share most of their blocks: each distinct one is rendered once.
    block = repaired_tables(block)
    if "[" in block and "`" in block:  # where markdown-it.rs panics (see markupfallback)
        return markupfallback.render(block, base_url)
    if _too_deep(block):
        return f"<p>{_escape(block)}</p>\n"
    if _LONG_DELIMITER_RUN.search(block):
        return markupfallback.render(block, base_url)
    try:
        return _rewrite(_parser.render(block), base_url)
    except BaseException as error:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(error).__name__ != "PanicException":
            raise
        return markupfallback.render(block, base_url)


_BREAK = re.compile(r"&lt;br\s*/?&gt;", re.I)
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S)


_WRITTEN_BREAK = re.compile(r"<br\s*/?>", re.I)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero-width, BOM
# U+202A to U+202E and U+2066 to U+2069. A regex, not str.translate, which looks each character up
# in a dict: 13% of a full build's time in a profile, where a search that finds none costs little.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """Captured text as stored, in the order the rules read it. An override (U+202E ... U+202C)
    shows letters stored backwards as a sentence a reader reads forwards, which no rule sees:
    "noitartibra gnidnib" would read "binding arbitration" on the page, unflagged. Without the
    controls the page shows what was captured. Text in right-to-left scripts needs none of them."""
    return _BIDI_CONTROLS.sub("", text)


def quote_text(quote: str) -> str:
    """A clause as quoted on one line: a `<br>` written in the text is the line break it stands
    for, shown as a space, not as markup; invisible characters (which break a reader's search for
    the words) and bidirectional controls (see without_bidi_controls) are left out."""
    return " ".join(_INVISIBLE.sub("", _WRITTEN_BREAK.sub(" ", without_bidi_controls(quote))).split())


def _line_breaks(html: str) -> str:
    """`<br>` written in the text (the only way to break a line in a Markdown table cell, common in
    Open Terms Archive's texts) as the line break it stands for; raw HTML stays escaped otherwise,
    and code shows it as written."""
    if "&lt;br" not in html and "&lt;BR" not in html:
        return html
    parts = _CODE.split(html)
    return "".join(part if i % 2 else _breaks_in_text(part) for i, part in enumerate(parts))


# Splits HTML the renderer wrote into tags and text: its attribute values have "<" and ">" escaped.
TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


def written_breaks(escaped: str) -> str:
    """Escaped text (no tags) with each `<br>` written in it as the line break it stands for: a
    diff of a table's cells shows their lines, not "<br><br>"."""
    return _BREAK.sub("<br>", escaped)


def _breaks_in_text(html: str) -> str:
    """Only between tags: inside one (a link's title) a tag would end the attribute it is in."""
    return "".join(piece if piece.startswith("<") else _BREAK.sub("<br>", piece)
                   for piece in TAG_OR_TEXT.split(html))


def render_markdown(text: str, base_url: str | None = None, heading_base: int | None = None) -> str:
    """HTML for a version's text: raw HTML escaped (but for line breaks), unsafe links dropped,
    images not loaded, relative links resolved against base_url (the captured page's URL) or
    unlinked; with heading_base, the text's headings start at that level."""
    base = base_url or ""
    text = without_bidi_controls(text)
    html = "".join(_render_block(b, base if _reads_base(b) else "") for b in markdown_blocks(text))
    html = _line_breaks(html)
    return _shift_headings(html, heading_base) if heading_base else html
