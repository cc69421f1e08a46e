"""Captured Markdown → safe HTML. Captured text is hostile input: nothing in it may execute
or make the reader's browser contact a third party."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# Links in captured text may only point to the web or mail; markdown-it already refuses
# javascript:, vbscript:, file: and most data: URLs, this narrows it further.
_ALLOWED_SCHEMES = ("http://", "https://", "mailto:", "#")


def _validate_link(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(_ALLOWED_SCHEMES) or ":" not in lowered.split("/", 1)[0]


def _render_image(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                  env: EnvType) -> str:
    # Images would be fetched from the service's servers (a tracking pixel, in effect):
    # show their description and link to them instead.
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or ()) or "image"
    src = _resolve(env.get("base_url", ""), str(token.attrGet("src") or ""))
    label = f"[image: {_escape(alt)}]"
    before = tokens[:idx]
    opened = sum(t.type == "link_open" for t in before) - sum(t.type == "link_close" for t in before)
    if src.lower().startswith(("http://", "https://")) and not opened:  # no link inside a link
        return f'<a class="image-link" href="{_escape(src)}" rel="nofollow noopener noreferrer">{label}</a>'
    return f'<span class="image-link">{label}</span>'


_ABSOLUTE_TARGET = r"https?://|mailto:"  # targets that no base URL changes
_ABSOLUTE = re.compile(_ABSOLUTE_TARGET, re.IGNORECASE)


def _resolve(base_url: str, target: str) -> str:
    # An absolute target is kept as written (urljoin would re-assemble it, differently with and
    # without a base): a block whose targets are all absolute then renders the same whatever the
    # base, and render_markdown shares it across documents.
    return target if _ABSOLUTE.match(target) else urljoin(base_url, target)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _render_link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                      env: EnvType) -> str:
    # Links are the service's, not ours: resolve relative ones against the page they were
    # captured from, so none of them lands inside our site.
    token = tokens[idx]
    href = _resolve(env.get("base_url", ""), str(token.attrGet("href") or ""))
    if href.lower().startswith(("http://", "https://")):
        token.attrSet("href", href)
        token.attrSet("rel", "nofollow noopener noreferrer")
    elif not href.lower().startswith("mailto:"):
        token.attrs.pop("href", None)
    return str(renderer.renderToken(tokens, idx, options, env))


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


def _drop_empty_table_heads(state: Any) -> None:
    """A header row with no text would be announced as empty headers: keep its cells as data."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "thead_open":
            continue
        end = next(j for j in range(i, len(tokens)) if tokens[j].type == "thead_close")
        cells = [t for t in tokens[i:end] if t.type == "inline"]
        if cells and not any(t.content.strip() for t in cells):
            for t in tokens[i:end + 1]:
                t.hidden = True  # not rendered
                if t.type in ("th_open", "th_close", "tr_open", "tr_close"):
                    t.type = "text"
                    t.content = ""
                    t.children = None


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("drop_empty_table_heads", _drop_empty_table_heads)
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    return md


_parser = _make_parser()


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
_RELATIVE_TARGET = re.compile(rf"\]\((?!\s*<?(?:{_ABSOLUTE_TARGET}))", re.IGNORECASE)


def _reads_base(block: str) -> bool:
    """False when the block renders the same whatever the base URL, so that it is rendered once
    for every document that shares it. Only links and images read the base, and only through a
    target: inline ones follow "](" (an absolute one ignores the base), reference ones a
    definition "[x]: target" (any block with one reads it). An autolink is always absolute."""
    return "[" in block and ("]:" in block or _RELATIVE_TARGET.search(block) is not None)


@functools.lru_cache(maxsize=8192)
def _render_block(block: str, base_url: str) -> str:
    # Versions of a document share most of their blocks: each distinct one is rendered once.
    return str(_parser.render(block, {"base_url": base_url}))


def render_markdown(text: str, base_url: str | None = None, heading_base: int | None = None) -> str:
    """HTML for a version's text: raw HTML escaped, unsafe links dropped, images not loaded,
    relative links resolved against base_url (the captured page's URL) or unlinked; with
    heading_base, the text's headings start at that level."""
    base = base_url or ""
    html = "".join(_render_block(b, base if _reads_base(b) else "") for b in markdown_blocks(text))
    return _shift_headings(html, heading_base) if heading_base else html
