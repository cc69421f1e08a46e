"""Captured Markdown → safe HTML. Captured text is hostile input: nothing in it may execute
or make the reader's browser contact a third party."""

from __future__ import annotations

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
    src = urljoin(env.get("base_url", ""), str(token.attrGet("src") or ""))
    label = f"[image: {_escape(alt)}]"
    before = tokens[:idx]
    opened = sum(t.type == "link_open" for t in before) - sum(t.type == "link_close" for t in before)
    if src.lower().startswith(("http://", "https://")) and not opened:  # no link inside a link
        return f'<a class="image-link" href="{_escape(src)}" rel="nofollow noopener noreferrer">{label}</a>'
    return f'<span class="image-link">{label}</span>'


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _render_link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict,
                      env: EnvType) -> str:
    # Links are the service's, not ours: resolve relative ones against the page they were
    # captured from, so none of them lands inside our site.
    token = tokens[idx]
    href = urljoin(env.get("base_url", ""), str(token.attrGet("href") or ""))
    if href.lower().startswith(("http://", "https://")):
        token.attrSet("href", href)
        token.attrSet("rel", "nofollow noopener noreferrer")
    elif not href.lower().startswith("mailto:"):
        token.attrs.pop("href", None)
    return str(renderer.renderToken(tokens, idx, options, env))


def _shift_headings(state: Any) -> None:
    """Captured headings sit under our page's own h1 and h2: map the levels the text uses onto
    consecutive levels from `heading_base` down, so the outline never skips a level."""
    base = state.env.get("heading_base")
    if not base:
        return
    headings = [t for t in state.tokens if t.type in ("heading_open", "heading_close")]
    used = sorted({int(t.tag[1]) for t in headings})
    levels = {level: min(6, base + i) for i, level in enumerate(used)}
    previous = base - 1
    for token in headings:
        if token.type == "heading_open":  # never deeper than one below the heading before it
            previous = min(levels[int(token.tag[1])], previous + 1)
        token.tag = f"h{previous}"


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
    md.core.ruler.push("shift_headings", _shift_headings)
    md.core.ruler.push("drop_empty_table_heads", _drop_empty_table_heads)
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    return md


_parser = _make_parser()


def render_markdown(text: str, base_url: str | None = None, heading_base: int | None = None) -> str:
    """HTML for a version's text: raw HTML escaped, unsafe links dropped, images not loaded,
    relative links resolved against base_url (the captured page's URL) or unlinked; with
    heading_base, the text's headings start at that level."""
    return str(_parser.render(text, {"base_url": base_url or "", "heading_base": heading_base}))
