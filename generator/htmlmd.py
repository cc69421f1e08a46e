"""HTML → Markdown: headings, paragraphs, lists, pipe tables, links, emphasis, quotes and code.

Text only: whatever a reader does not see as text (scripts, styles, forms, hidden elements, images)
is dropped, and every character of the page's text is escaped so that it reads back as text.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from generator.normalize import canonical_markdown

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
CODE = frozenset({"code", "kbd", "samp", "tt"})
LINK_SCHEMES = frozenset({"", "http", "https", "mailto", "tel", "ftp"})
MAX_SPAN = 50  # colspan/rowspan beyond this are hostile or broken markup

_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
_SPACES = re.compile(r"[ \t\n\r\f]+")
_INVISIBLE = str.maketrans({"\xa0": " ", "\u200b": None, "\ufeff": None, "\xad": None, "\x7f": None}
                           | {chr(c): None for c in range(32) if chr(c) not in "\t\n\r\f"})
# Private markers (page text never holds C0 controls) around emphasis markup and code text, settled
# per paragraph once their neighbours are known: CommonMark reads a delimiter by what surrounds it.
_SENTINELS = {"*": ("\x02", "\x03"), "**": ("\x04", "\x05"), "~~": ("\x06", "\x07")}
_OPENINGS = frozenset(opening for opening, _ in _SENTINELS.values())
_MARK_OF = {sentinel: mark for mark, pair in _SENTINELS.items() for sentinel in pair}
_NO_SENTINELS = str.maketrans(dict.fromkeys(_MARK_OF))
_CODE = re.compile("\x0e([^\x0f]*)\x0f")  # code text, fenced once its neighbours are known
_CODE_OR_BANG = re.compile("\x0e[^\x0f]*\x0f|!(?=\\[)")
_INLINE_ESCAPES = re.compile(r"[\\*`\[\]]|<(?=[A-Za-z/!?])|&(?=#?\w+;)|~(?=~)|(?<=~)~")
_LINE_START = re.compile(r"^(?:#{1,6}(?=[ \t]|$)|>|[-+](?=[ \t]|$)|(?:-[ \t]*)+$|=+[ \t]*$"
                         r"|(\d{1,9})(?=[.)](?:[ \t]|$)))")  # headings, quotes, items, rules, underlines
_URL_UNSAFE = re.compile(r"[\x00-\x20()<>\\|\x7f]")  # would end or break a Markdown link destination


def parse_html(html: str) -> Element:
    """The page as an lxml tree (always an <html> root with a <body>), without comments.

    Raises ValueError when the parser had to give up on part of the page.
    """
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)  # lxml refuses str input with an encoding declaration
    # huge_tree: past 256 levels libxml2 would otherwise drop the rest of the page without a word
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    root = lxml.html.document_fromstring(html if html.strip() else "<html></html>", parser=parser,
                                         ensure_head_body=True)
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            raise ValueError(f"the HTML parser gave up: {error.message}")
    return root


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
        number = _int(el.get("start"), len(items) if step < 0 else 1)
        lines: list[str] = []
        width = 0
        for item in items:
            stray = _paragraphs([_escape(item.tail)])  # text between items is shown: keep it with the item
            if item.tag in LISTS and lines:  # a list right inside a list belongs to the item above
                nested = "\n\n".join([*self.block(item), *stray])
                sep = "\n" if _can_interrupt(nested) else "\n\n"
                lines[-1] += sep + " " * width + _indent(nested, width)
                continue
            number = _int(item.get("value"), number)
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
        grid = _grid(el)
        if el.get("role") in ("presentation", "none") or el.find(".//table") is not None \
                or max((len(row) for row in grid), default=0) < 2:
            return [block for cell in _cells(el) for block in self.blocks(cell)]  # a layout table
        rows = [[self.flat_text(cell) if cell is not None else "" for cell in row] for row in grid]
        rows = [r for r in rows if any(r)]
        if not rows:
            return []
        width = max(len(r) for r in rows)
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
            opening, closing = _SENTINELS[mark]
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
    text = _emphasis(text)
    # "!" right before a link would make it an image; code text is left as it is
    text = _CODE_OR_BANG.sub(lambda m: m.group() if m.group() != "!" else "\\!", text)
    # adjacent code elements are one span: two spans' backtick fences would run together
    text = _CODE.sub(lambda m: _code_span(m.group(1)), text.replace("\x0f\x0e", ""))
    return re.sub(r" *\n[ \n]*", "\n", re.sub(r" {2,}", " ", text)).strip(" \n")


def _emphasis(text: str) -> str:
    """Keep the emphasis markup that CommonMark reads back as emphasis; drop the rest, never the text.

    Delimiters next to punctuation or to other delimiters may fail to open or close, and would
    then show as literal asterisks (`**Acc****ount**` from <b>Acc</b><b>ount</b>).
    """
    for mark, (opening, closing) in _SENTINELS.items():  # adjacent spans of one kind are one span
        text = text.replace(f"{mark}{closing}{opening}{mark}", "")
    while True:
        pairs, strays = _emphasis_spans(text)
        unreadable = sorted((o, c) for o, c, mark in pairs if not _readable(text, o, c, len(mark)))
        # the innermost first: a span is often unreadable only because of the one inside it
        doomed = strays or [at for i, (o, c) in enumerate(unreadable)
                            if i + 1 == len(unreadable) or unreadable[i + 1][0] > c for at in (o, c)]
        if not doomed:
            return text.translate(_NO_SENTINELS)
        for at in sorted(doomed, reverse=True):  # a sentinel goes with its delimiters, the text stays
            size = len(_MARK_OF[text[at]])
            start, stop = (at, at + 1 + size) if text[at] in _OPENINGS else (at - size, at + 1)
            text = text[:start] + text[stop:]


def _emphasis_spans(text: str) -> tuple[list[tuple[int, int, str]], list[int]]:
    """(opening, closing, mark) of each span, innermost first, and sentinels left without a partner."""
    spans: list[tuple[int, int, str]] = []
    stack: list[int] = []
    strays: list[int] = []
    for at, char in enumerate(text):
        if char in _OPENINGS:
            stack.append(at)
        elif char in _MARK_OF:
            if stack and _MARK_OF[text[stack[-1]]] == _MARK_OF[char]:
                spans.append((stack.pop(), at, _MARK_OF[char]))
            else:
                strays.append(at)  # a paragraph break cut the span: its markup goes
    return spans, strays + stack


def _readable(text: str, opening: int, closing: int, size: int) -> bool:
    """Whether CommonMark opens and closes this span, its delimiters not running into others."""
    outer_left, inner_left = _neighbour(text, opening - 1, -1), _neighbour(text, opening + 1 + size, 1)
    inner_right, outer_right = _neighbour(text, closing - size - 1, -1), _neighbour(text, closing + 1, 1)
    char = text[opening + 1]
    if char in (outer_left, inner_left, inner_right, outer_right):
        return False  # `***` or `~~~~`: runs that merge no longer pair as written
    return _flanking(outer_left, inner_left)[0] and _flanking(inner_right, outer_right)[1]


def _neighbour(text: str, at: int, step: int) -> str:
    """The character a reader sees next to a delimiter run; a line edge reads as a space.

    An escaped `\\*` is returned as a backslash: it is punctuation, not part of a delimiter run.
    """
    while 0 <= at < len(text) and text[at] in _MARK_OF:
        at += step
    if not 0 <= at < len(text):
        return " "
    if text[at] in "\x0e\x0f":
        return "`"  # a code span's fence
    backslashes = 0
    while at > backslashes and text[at - backslashes - 1] == "\\":
        backslashes += 1
    return "\\" if backslashes % 2 else text[at]


def _flanking(before: str, after: str) -> tuple[bool, bool]:
    """CommonMark's left- and right-flanking tests for a delimiter run between two characters."""
    space_before, space_after = _is_space(before), _is_space(after)
    punct_before, punct_after = _is_punct(before), _is_punct(after)
    left = not space_after and (not punct_after or space_before or punct_before)
    right = not space_before and (not punct_before or space_after or punct_after)
    return left, right


def _is_space(char: str) -> bool:
    return char in " \t\n\v\f\r" or unicodedata.category(char) == "Zs"


def _is_punct(char: str) -> bool:
    return unicodedata.category(char).startswith(("P", "S"))


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


def _int(value: str | None, default: int) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _rows(table: Element) -> Iterator[Element]:
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            yield from (row for row in child if row.tag == "tr")


def _cells(table: Element) -> Iterator[Element]:
    for row in _rows(table):
        yield from (cell for cell in row if cell.tag in ("td", "th"))


def _grid(table: Element) -> list[list[Element | None]]:
    """Cells by row and column; a spanned position holds None, so columns stay aligned."""
    grid: list[list[Element | None]] = []
    pending: set[tuple[int, int]] = set()  # (row, column) taken by a rowspan from above
    for r, row in enumerate(_rows(table)):
        line: list[Element | None] = []
        for cell in (c for c in row if c.tag in ("td", "th")):
            while (r, len(line)) in pending:
                line.append(None)
            colspan = min(max(_int(cell.get("colspan"), 1), 1), MAX_SPAN)
            rowspan = min(max(_int(cell.get("rowspan"), 1), 1), MAX_SPAN)
            for offset in range(colspan):
                for below in range(1, rowspan):
                    pending.add((r + below, len(line) + offset))
            line += [cell] + [None] * (colspan - 1)
        while (r, len(line)) in pending:
            line.append(None)
        grid.append(line)
    return grid
