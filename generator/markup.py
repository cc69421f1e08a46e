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
    if src.lower().startswith(("http://", "https://")):
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


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    return md


_parser = _make_parser()


def render_markdown(text: str, base_url: str | None = None) -> str:
    """HTML for a version's text: raw HTML escaped, unsafe links dropped, images not loaded,
    relative links resolved against base_url (the captured page's URL) or unlinked."""
    return str(_parser.render(text, {"base_url": base_url or ""}))
