"""Site pages written in content/pages/<slug>.md (About, Methodology, ...): Markdown with a YAML
front matter holding the title, rendered at /<slug>/.

The text is the maintainers', not a captured page's, so it keeps its relative links; raw HTML is
still escaped. Two additions to CommonMark: `{{ name }}` puts in a value only the build knows
(the signing key id, the site settings), and `{#id}` at the end of a heading gives it a fixed
anchor, so that links such as /methodology/#verify survive a reworded heading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import yaml
from markdown_it import MarkdownIt

from .model import SLUG_RE, ContentPage, Problem
from .yamlload import load_yaml, yaml_problem

PAGES_DIR = "pages"
REQUIRED_PAGES = ("about", "methodology")  # the site's navigation and footer link to them
# Anchors other pages link to (methodology/#verify from every version's evidence): never renamed.
REQUIRED_ANCHORS = {"methodology": ("capture", "verify", "rules", "sources")}
PAGE_KEYS = ("title",)
PLACEHOLDERS = ("title", "description", "attribution", "key_id")  # site.yaml's, and the key id
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---(?:\n|\Z)", re.S)  # a page may be its front matter alone
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]*)\s*\}\}")
_HEADING_ID = re.compile(r"<h([1-6])>(.*?)\s*\{#([a-z][a-z0-9-]*)\}</h\1>")
_ANCHOR_ID = re.compile(r"[a-z][a-z0-9-]*")
_WRITTEN_ANCHOR = re.compile(r"\{#([^{}]*)\}\s*$")  # "## Verifying {#verify}"
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass(frozen=True)
class PageText:
    """A page as written, with its values put in: the title and the body as HTML."""

    title: str
    html: str


def _front_matter(text: str, file: str) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    found = _FRONT_MATTER.match(text)
    if not found:
        return None, text, [Problem(file, "", "no front matter",
                                    "start the file with '---', 'title: <title>', '---'")]
    try:
        meta = load_yaml(found.group(1))
    except yaml.YAMLError as err:
        # One line, at the file's line (the front matter starts on line 2), not PyYAML's whole report.
        return None, text, [yaml_problem(file, err, "fix the YAML between the '---' lines",
                                         where="front matter", first_line=2)]
    if not isinstance(meta, dict):
        return None, text, [Problem(file, "front matter", "must be a mapping", "write 'title: <title>'")]
    return meta, text[found.end():], []


def parse_page(slug: str, text: str, file: str) -> tuple[ContentPage | None, list[Problem]]:
    """A page's front matter and body, checked: every problem names the file, the key and the fix."""
    problems = []
    if not SLUG_RE.match(slug):
        problems.append(Problem(file, "", f"file name {slug!r} is not a kebab-case page slug",
                                "rename the file to lower-case words joined by '-', e.g. press.md"))
    meta, body, found = _front_matter(text.removeprefix("\ufeff").replace("\r\n", "\n"), file)
    problems += found
    if meta is None:
        return None, problems
    problems += [Problem(file, str(k), "unknown key", f"use only {', '.join(PAGE_KEYS)}")
                 for k in meta if k not in PAGE_KEYS]
    title = meta.get("title")
    if title is not None and not isinstance(title, str):  # YAML reads `title: 2024` as a number
        problems.append(Problem(file, "title", f"{title!r} is not text", f"quote it: title: \"{title}\""))
    elif not isinstance(title, str) or not title.strip():
        problems.append(Problem(file, "title", "missing or empty",
                                "add 'title: <title>' to the front matter"))
    for name in sorted({m.group(1) for m in _PLACEHOLDER.finditer(f"{title} {body}")} - set(PLACEHOLDERS)):
        problems.append(Problem(file, f"{{{{ {name} }}}}", "unknown placeholder",
                                f"use one of {', '.join(PLACEHOLDERS)}"))
    anchors = _written_anchors(body)
    problems += [Problem(file, f"{{#{a}}}", "not a valid anchor", "use lower-case letters, digits and '-'")
                 for a in anchors if not _ANCHOR_ID.fullmatch(a)]
    problems += [Problem(file, f"{{#{a}}}", "anchor used twice", "give each heading its own anchor")
                 for a in sorted({a for a in anchors if anchors.count(a) > 1})]
    problems += [Problem(file, f"{{#{a}}}", f"missing: other pages link to {slug}/#{a}",
                         f"end the heading of that section with ' {{#{a}}}'")
                 for a in REQUIRED_ANCHORS.get(slug, ()) if a not in anchors]
    if problems:
        return None, problems
    return ContentPage(slug, " ".join(str(title).split()), body), []


def _written_anchors(body: str) -> list[str]:
    """The `{#id}` ending each heading, as the renderer sees headings: one written in a code block
    is text, not an anchor (a line-by-line search took it for one, and the link broke)."""
    tokens = _MARKDOWN.parse(body)
    return [m.group(1) for opening, inline in pairwise(tokens)
            if opening.type == "heading_open" and (m := _WRITTEN_ANCHOR.search(inline.content))]


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_page(page: ContentPage, values: Mapping[str, str]) -> PageText:
    """The page's title and HTML with the build's values put in (as text: they are escaped)."""
    body = _fill(page.body, {k: _escape_markdown(v) for k, v in values.items()})
    html = _HEADING_ID.sub(r'<h\1 id="\3">\2</h\1>', _MARKDOWN.render(body))
    return PageText(_fill(page.title, values), html)


def _escape_markdown(value: str) -> str:
    """A value read as plain text by the Markdown parser (a URL in the attribution stays text)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>&|~])", r"\\\1", value)
