"""The rendering policy of generator.markup written on markdown-it-py, the design's Markdown parser:
the renderer for the blocks that markdown-it.rs cannot parse.

markdown-it.rs 0.6 (inside markdown-it-pyrs) panics on an unclosed backtick after an opening
bracket (``[don`t]``, ``Press [Ctrl+`]``), and a captured page may hold one. The two parsers give the
same HTML for every other text (tests/test_markup.py checks it over the committed archive), so a
version's page reads the same whichever of them rendered a block.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .linktarget import resolve_link
from .tabledelimiters import repaired_tables

REL = "nofollow noopener noreferrer"


def _escaped(text: str) -> str:
    return escape(text, quote=True).replace("&#x27;", "'")


def _links_open(tokens: Sequence[Token], idx: int) -> int:
    before = tokens[:idx]
    return sum(t.type == "link_open" for t in before) - sum(t.type == "link_close" for t in before)


def _link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # An autolink inside a link's text would nest links, which HTML forbids: it stays text. Web
    # links are resolved against the captured page and never followed for ranking; other schemes
    # (tel:, about:) lose their target.
    if _links_open(tokens, idx):
        return ""
    token = tokens[idx]
    href = resolve_link(env["base_url"], str(token.attrGet("href") or ""))
    if href.lower().startswith(("http://", "https://")):
        token.attrSet("href", href)
        token.attrSet("rel", REL)
    elif not href.lower().startswith("mailto:"):
        token.attrs.pop("href", None)
    return str(renderer.renderToken(tokens, idx, options, env))


def _link_close(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "" if _links_open(tokens, idx) > 1 else str(renderer.renderToken(tokens, idx, options, env))


def _image(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # An image would be fetched from the service's servers: its description, linked instead.
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or ()) or "image"
    src = resolve_link(env["base_url"], str(token.attrGet("src") or ""))
    label = f"[image: {_escaped(alt)}]"
    if src.lower().startswith(("http://", "https://")) and not _links_open(tokens, idx):  # no link in a link
        return f'<a class="image-link" href="{_escaped(src)}" rel="{REL}">{label}</a>'
    return f'<span class="image-link">{label}</span>'


def _drop_empty_heads(state: Any) -> None:
    # A table header row without text would be announced as empty headers.
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "thead_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "thead_close")
            if not any(t.content.strip() for t in tokens[i:end] if t.type == "inline"):
                for t in tokens[i:end + 1]:
                    t.hidden, t.type, t.content, t.children = True, "text", "", None


@functools.cache
def parser() -> MarkdownIt:
    """CommonMark with tables and strikethrough, raw HTML escaped, links and images as above."""
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.core.ruler.push("drop_empty_heads", _drop_empty_heads)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    return md


def render(text: str, base_url: str) -> str:
    """The HTML generator.markup gives for `text` (before its headings are shifted)."""
    return str(parser().render(repaired_tables(text), {"base_url": base_url}))
