"""HTML → Markdown: headings, paragraphs, lists, pipe tables, links, emphasis, quotes and code.

Text only: whatever a reader does not see as text (scripts, styles, forms, hidden elements, images)
is dropped, and every character of the page's text is escaped so that it reads back as text.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from generator.emphasis import SENTINELS, emphasis
from generator.normalize import canonical_markdown
from generator.tablegrid import cell_grid, cells, int_attribute

Element = Any  # lxml.html.HtmlElement; lxml ships no type hints

# Not text: code, media, embedded documents and form controls (a <form> itself may wrap a whole page).
NOT_TEXT = frozenset({
    "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "frame", "frameset",
    "object", "embed", "canvas", "audio", "video", "picture", "img", "map", "area", "button",
    "input", "label", "select", "option", "optgroup", "datalist", "textarea", "output", "meter", "progress",
    "link", "meta", "base", "title",
})
BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "listing",
    "main", "menu", "nav", "ol", "p", "plaintext", "pre", "search", "section", "summary", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "xmp",
})
HEADINGS = {f"h{n}": n for n in range(1, 7)}
EMPHASIS = {"em": "*", "i": "*", "cite": "*", "dfn": "*", "var": "*",
            "strong": "**", "b": "**", "del": "~~", "s": "~~", "strike": "~~"}
LISTS = frozenset({"ul", "ol", "menu", "dir"})
# Every row of a Markdown table is padded to the widest: one row of N cells over M rows of one made
# N x M cells (30 KB of HTML, a million cells). Real policy tables hold under a hundred.
MAX_TABLE_CELLS = 10_000
CODE = frozenset({"code", "kbd", "samp", "tt"})
LINK_SCHEMES = frozenset({"", "http", "https", "mailto", "tel", "ftp"})

_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
_SPACES = re.compile(r"[ \t\n\r\f]+")
_INVISIBLE = str.maketrans({"\xa0": " ", "\u200b": None, "\ufeff": None, "\xad": None, "\x7f": None}
                           | {chr(c): None for c in range(32) if chr(c) not in "\t\n\r\f"})
# Private markers (page text never holds C0 controls) around code text, as around emphasis markup
# (generator.emphasis), settled per paragraph once their neighbours are known.
_CODE = re.compile("\x0e([^\x0f]*)\x0f")  # code text, fenced once its neighbours are known
_CODE_OR_BANG = re.compile("\x0e[^\x0f]*\x0f|!(?=\\[)")
_INLINE_ESCAPES = re.compile(r"[\\*`\[\]]|<(?=[A-Za-z/!?])|&(?=#?\w+;)|~(?=~)|(?<=~)~")
_LINE_START = re.compile(r"^(?:#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|(?:-[ \t]*)+$|=+[ \t]*$"
                         r"|(\d{1,9})(?=[.)](?:[ \t]|$)))")  # headings, quotes, items, rules, underlines
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # no XML text holds these
_URL_UNSAFE = re.compile(r"[\x00-\x20()<>\\|\x7f]")  # would end or break a Markdown link destination


def parse_html(html: str) -> Element:
    """The page as an lxml tree (always an <html> root with a <body>), without comments.

    Raises ValueError when the parser had to give up on part of the page.
    """
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)  # lxml refuses str input with an encoding declaration
    # huge_tree: past 256 levels libxml2 would otherwise drop the rest of the page without a word
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html if html.strip() else "<html></html>", parser=parser,
                                             ensure_head_body=True)
    except etree.ParserError:  # "Document is empty": nothing but comments or instructions
        root = lxml.html.document_fromstring("<html></html>", ensure_head_body=True)
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            raise ValueError(f"the HTML parser gave up: {error.message}")
    _drop_control_characters(root)
    return root


def _drop_control_characters(root: Element) -> None:
    """lxml keeps control characters (raw, or written as &#11;) in the tree but refuses them when a
    text or attribute is set, as removing an element does. A form feed is whitespace in HTML; the
    others show nothing in a browser."""
    def clean(text: str) -> str:
        return _NOT_XML.sub("", text.replace("\f", " "))

    for el in root.iter():
        if el.text and _NOT_XML.search(el.text):
            el.text = clean(el.text)
        if el.tail and _NOT_XML.search(el.tail):
            el.tail = clean(el.tail)
        for name, value in el.attrib.items():
            if _NOT_XML.search(value):
                el.set(name, clean(value))


def is_hidden(el: Element) -> bool:
    """Hidden by its own markup (stylesheets are not applied: they would need a browser)."""
    return (el.get("hidden") is not None or (el.get("aria-hidden") or "").strip().lower() == "true"
            or bool(_HIDDEN_STYLE.search(el.get("style") or ""))
            or (el.tag == "dialog" and el.get("open") is None))


def strip_non_text(root: Element) -> Element:
    """Drop comments, non-text and hidden elements in place, keeping the text that follows them."""
    doomed = [el for el in root.iter()
              if el is not root and (not isinstance(el.tag, str) or el.tag in NOT_TEXT or is_hidden(el))]
    for el in doomed:
        if el.getparent() is not None:
            drop(el)
    return root


def drop(el: Element) -> None:
    """Remove an element with its subtree; its tail text stays in the document."""
    parent, tail = el.getparent(), el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def visible_text(root: Element) -> str:
    """Text of a tree without comments as a browser lays it out, blocks and line breaks as spaces."""
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if el.tag in BLOCKS or el.tag == "br":
            parts.append(" ")
        if event == "start":
            parts.append(el.text or "")
        elif el is not root:
            parts.append(el.tail or "")
    return "".join(parts).translate(_INVISIBLE)


def html_to_markdown(source: Element | str, base_url: str | None = None) -> str:
    """Canonical Markdown of an HTML page, fragment or element; links resolved against base_url."""
    root = parse_html(source).body if isinstance(source, str) else copy.deepcopy(source)
    strip_non_text(root)
    return canonical_markdown("\n\n".join(_Converter(base_url, _block_elements(root)).block(root)))


def _block_elements(root: Element) -> set[Element]:
    """Block-level elements, counting any element that holds a block (e.g. <a><div>…</div></a>)."""
    blocks: set[Element] = set()
    for el in reversed(list(root.iter())):
        if el.tag in BLOCKS or any(child in blocks for child in el):
            blocks.add(el)
    return blocks


@dataclass(frozen=True)
class _Inline:
    """Where inline rendering is: nested emphasis and links must not repeat their markup."""

    emphasis: frozenset[str] = frozenset()
    in_link: bool = False
    flat: bool = False  # inside a heading or table cell: blocks become spaces


class _Converter:
    def __init__(self, base_url: str | None, block_elements: set[Element]) -> None:
        self.base_url = base_url
        self.block_elements = block_elements

    # -- blocks --------------------------------------------------------------------------------

    def blocks(self, el: Element) -> list[str]:
        """Markdown blocks of a block container: inline runs become paragraphs."""
        out: list[str] = []
        run: list[str] = [_escape(el.text)]
        for child in el:
            if child in self.block_elements:
                out += _paragraphs(run)
                run = []
                out += self.block(child)
            else:
                run.append(self.inline(child, _Inline()))
            run.append(_escape(child.tail))
        return out + _paragraphs(run)

    def block(self, el: Element) -> list[str]:
        tag = el.tag
        if tag in HEADINGS:
            text = re.sub(r"(^| )(#+)$", r"\1\\\2", self.flat_text(el))  # not a closing sequence
            return ["#" * HEADINGS[tag] + " " + text] if text else []
        if tag in LISTS:
            return self.list_block(el)
        if tag == "table":
            return self.table(el)
        if tag == "blockquote":
            inner = "\n\n".join(self.blocks(el))
            return [re.sub(r"^(?=.)", "> ", inner, flags=re.M).replace("\n\n", "\n>\n")] if inner else []
        if tag in ("pre", "listing", "xmp", "plaintext"):
            return _fenced(_pre_text(el))
        if tag == "hr":
            return ["---"]
        return self.blocks(el)

    def list_block(self, el: Element) -> list[str]:
        ordered, items = el.tag == "ol", _items(el)
        step = -1 if ordered and el.get("reversed") is not None else 1
        number = int_attribute(el.get("start"), len(items) if step < 0 else 1)
        lines: list[str] = []
        width = 0
        for item in items:
            stray = _paragraphs([_escape(item.tail)])  # text between items is shown: keep it with the item
            if item.tag in LISTS and lines:  # a list right inside a list belongs to the item above
                nested = "\n\n".join([*self.block(item), *stray])
                sep = "\n" if _can_interrupt(nested) else "\n\n"
                lines[-1] += sep + " " * width + _indent(nested, width)
                continue
            number = int_attribute(item.get("value"), number)
            body = "\n\n".join(filter(None, [self.item_blocks(item), *stray]))
            if body:
                marker = f"{number}. " if ordered else "- "
                width = len(marker)
                lines.append(marker + _indent(body, width))
            number += step
        return _paragraphs([_escape(el.text)]) + (["\n".join(lines)] if lines else [])

    def item_blocks(self, item: Element) -> str:
        """A list item's blocks; a nested list hugs the line above it so the list stays tight."""
        if item.tag == "li":
            blocks = self.blocks(item)
        elif item in self.block_elements:
            blocks = self.block(item)
        else:
            blocks = [_finish_inline(self.inline(item, _Inline()))]
        text = ""
        for block in filter(None, (b.strip("\n") for b in blocks)):
            sep = "\n" if _can_interrupt(block) else "\n\n"
            text = text + sep + block if text else block
        return text

    def table(self, el: Element) -> list[str]:
        grid = cell_grid(el)
        width = max((len(row) for row in grid), default=0)
        if el.get("role") in ("presentation", "none") or el.find(".//table") is not None or width < 2 \
                or width * len(grid) > MAX_TABLE_CELLS:
            return [block for cell in cells(el) for block in self.blocks(cell)]  # a layout table
        rows = [[self.flat_text(cell) if cell is not None else "" for cell in row] for row in grid]
        rows = [r for r in rows if any(r)]
        if not rows:
            return []
        width = max(len(r) for r in rows)  # (empty rows left out)
        lines = ["| " + " | ".join(c.replace("|", "\\|") for c in r + [""] * (width - len(r))) + " |"
                 for r in rows]
        lines.insert(1, "|" + " --- |" * width)
        caption = el.find("caption")
        return ([self.flat_text(caption)] if caption is not None else []) + ["\n".join(lines)]

    # -- inline --------------------------------------------------------------------------------

    def flat_text(self, el: Element) -> str:
        return _finish_inline(self.inline_children(el, _Inline(flat=True))).replace("\n", " ")

    def inline_children(self, el: Element, ctx: _Inline) -> str:
        parts = [_escape(el.text)]
        for child in el:
            parts.append(self.inline(child, ctx))
            parts.append(_escape(child.tail))
        return "".join(parts)

    def inline(self, el: Element, ctx: _Inline) -> str:
        tag = el.tag
        if tag == "br":
            return " " if ctx.flat or ctx.in_link else "\n"
        if tag in CODE:
            code = _SPACES.sub(" ", el.text_content().translate(_INVISIBLE))
            return f"\x0e{code}\x0f" if code.strip() else code
        if el in self.block_elements:  # only reached in flat context: keep the words apart
            return " " + self.inline_children(el, ctx) + " "
        if tag == "a":
            return self.link(el, ctx)
        mark = EMPHASIS.get(tag)
        if mark and mark not in ctx.emphasis:
            inner = self.inline_children(el, _Inline(ctx.emphasis | {mark}, ctx.in_link, ctx.flat))
            opening, closing = SENTINELS[mark]
            return _wrap(inner, opening + mark, mark + closing)
        return self.inline_children(el, ctx)

    def link(self, el: Element, ctx: _Inline) -> str:
        inner = self.inline_children(el, _Inline(ctx.emphasis, True, ctx.flat))
        url = None if ctx.in_link else link_target(el.get("href"), self.base_url)
        return _wrap(inner, "[", f"]({url})") if url else inner


# -- helpers -----------------------------------------------------------------------------------

def link_target(href: str | None, base_url: str | None) -> str | None:
    """Absolute URL for a link, or None for links that are not navigation (javascript:, data:)."""
    if href is None:
        return None
    href = re.sub(r"^[\x00-\x20]+|[\x00-\x20]+$", "", re.sub(r"[\t\n\r]", "", href))
    try:
        url = urljoin(base_url, href) if base_url else href
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if not url or scheme not in LINK_SCHEMES:
        return None
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)


def _escape(text: str | None) -> str:
    """Collapse whitespace like a browser and backslash-escape what Markdown would read as markup."""
    if not text:
        return ""
    text = _SPACES.sub(" ", text.translate(_INVISIBLE))
    text = _INLINE_ESCAPES.sub(lambda m: "\\" + m.group(), text)
    return re.sub(r"(?<![^\W_])_|_(?![^\W_])", r"\\_", text)  # an intraword _ is never emphasis


def _finish_inline(text: str) -> str:
    """One paragraph's text: single spaces, no spaces around line breaks, no blank lines."""
    text = emphasis(text)
    # "!" right before a link would make it an image; code text is left as it is
    text = _CODE_OR_BANG.sub(lambda m: m.group() if m.group() != "!" else "\\!", text)
    # adjacent code elements are one span: two spans' backtick fences would run together
    text = _CODE.sub(lambda m: _code_span(m.group(1)), text.replace("\x0f\x0e", ""))
    return re.sub(r" *\n[ \n]*", "\n", re.sub(r" {2,}", " ", text)).strip(" \n")


def _paragraphs(run: list[str]) -> list[str]:
    """An inline run as paragraphs: two line breaks in a row start a new paragraph, as they look."""
    text = re.sub(r" *\n *", "\n", re.sub(r" {2,}", " ", "".join(run)))
    out = []
    for para in re.split(r"\n{2,}", text):
        lines = [_escape_line_start(line) for line in _finish_inline(para).split("\n") if line]
        if lines:
            out.append("\\\n".join(lines))
    return out


def _escape_line_start(line: str) -> str:
    """Text that would open a heading, quote or list item at the start of a line stays text."""
    match = _LINE_START.match(line)
    if not match:
        return line
    if match.group(1):
        return match.group(1) + "\\" + line[len(match.group(1)):]
    return "\\" + line


def _wrap(inner: str, before: str, after: str) -> str:
    """Markup around inline text, with the surrounding spaces moved outside (`**a** b`)."""
    core = inner.strip(" \n")
    if not re.search(r"[^\W_]", core):  # emphasis on punctuation alone cannot open next to a word
        return inner
    lead, trail = inner[:len(inner) - len(inner.lstrip(" \n"))], inner[len(inner.rstrip(" \n")):]
    if before == "[":
        core = core.replace("\n", " ")
    return f"{lead}{before}{core}{after}{trail}"


def _code_span(text: str) -> str:
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    lead, core, trail = text[:len(text) - len(text.lstrip())], text.strip(), text[len(text.rstrip()):]
    return f"{lead}{fence}{pad}{core}{pad}{fence}{trail}"


def _pre_text(el: Element) -> str:
    parts: list[str] = []
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if event == "start":
            parts.append("\n" if node.tag == "br" else node.text or "")
        elif node is not el:
            parts.append(node.tail or "")
    return "".join(parts).translate(_INVISIBLE).strip("\n")


def _fenced(text: str) -> list[str]:
    if not text.strip():
        return []
    fence = "`" * max(3, max((len(r) for r in re.findall("`{3,}", text)), default=0) + 1)
    return [f"{fence}\n{text}\n{fence}"]


def _items(el: Element) -> list[Element]:
    """A list's items, looking through wrappers that some sites put between <ul> and <li>."""
    items: list[Element] = []
    for child in el:
        if child.tag == "li" or child.tag in LISTS or child.find(".//li") is None:
            items.append(child)
        else:
            items += _items(child)
    return items


def _can_interrupt(block: str) -> bool:
    """A list that may follow a paragraph line directly: in CommonMark only bullets and "1." can."""
    return block.startswith(("- ", "1. "))


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return re.sub(r"\n(?=.)", "\n" + pad, text)


