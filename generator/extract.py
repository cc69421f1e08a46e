"""Extraction: a fetched page and its declared selectors → canonical Markdown, or a clear refusal.

Pure: no network, no disk. The fetch stage decodes bytes (generator.charset) and passes text in.
A selector that matches nothing, a page with too little text, or a conversion that loses words
raises `ExtractionError` instead of recording a silently truncated version.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin

from cssselect import SelectorError
from lxml import etree
from markdown_it import MarkdownIt

from generator.htmlmd import (
    BLOCKS,
    HEADINGS,
    Element,
    drop,
    html_to_markdown,
    parse_html,
    strip_non_text,
    visible_text,
)
from generator.model import RangeSelector, Selector, SourcePage
from generator.normalize import canonical_markdown

MIN_COVERAGE = 0.9  # share of the selection's words that must survive into the Markdown
MIN_WORDS = 20  # below this a "document" is an error page, a consent wall or a broken selector

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_PROTECTED_EMAIL = re.compile(r"/cdn-cgi/l/email-protection#([0-9a-fA-F]+)")

Positions = dict[Element, tuple[int, int]]  # element → (start, end) event numbers in document order


@dataclass(frozen=True)
class Extraction:
    markdown: str
    coverage: float  # share of the selected text's words found in the Markdown
    words: int


class ExtractionError(Exception):
    """The page cannot be extracted faithfully; the message says why, in words a maintainer can act on."""


def extract_page(html: str, page: SourcePage, base_url: str | None = None, *,
                 doc_type: str | None = None) -> Extraction:
    """Markdown of one page: declared selection (or the automatic main content), minus removals.

    Links resolve against base_url (the URL the page came from after redirects), else page.url.
    doc_type (a document-type slug) lets the automatic main content keep only that document when
    the page clearly holds several; it changes nothing when a selection is declared.
    """
    try:
        return _extract(html, page, base_url, doc_type)
    except RecursionError as err:  # the tree walks recurse once or twice per level of nesting
        raise ExtractionError("the page nests elements too deeply to convert") from err


def _extract(html: str, page: SourcePage, base_url: str | None, doc_type: str | None) -> Extraction:
    try:
        root = _reveal_emails(parse_html(html))
    except ValueError as err:
        raise ExtractionError(str(err)) from err
    positions = _positions(root)
    fragments = _select(root, page.select, positions) if page.select else [_Fragment.of(root.body, positions)]
    _remove(root, page.remove, positions, fragments)
    regions = [strip_non_text(fragment.root) for fragment in fragments]
    if not page.select:
        regions = [_main_content(fragments[0], doc_type)]
    base = _base_url(root, base_url or page.url)
    parts = [html_to_markdown(region, base) for region in regions]
    markdown = canonical_markdown("\n".join(part for part in parts if part))  # one blank line between
    return _checked(markdown, " ".join(visible_text(region) for region in regions))


def extract_document(pages: Sequence[tuple[str, SourcePage]], *, doc_type: str | None = None) -> str:
    """Markdown of a document assembled from several pages, in the declared order."""
    if not pages:
        raise ExtractionError("no pages to extract")
    parts = []
    for html, page in pages:
        try:
            parts.append(extract_page(html, page, doc_type=doc_type).markdown)
        except ExtractionError as err:
            raise ExtractionError(f"{page.url}: {err}") from err
    return "\n".join(parts)  # each part ends with a newline: one blank line between pages


# -- selection ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Fragment:
    """A private copy of part of the page, with each original element's twin and position."""

    root: Element
    twins: dict[Element, Element]
    positions: Positions

    @classmethod
    def of(cls, el: Element, positions: Positions) -> _Fragment:
        twin = copy.deepcopy(el)
        twin.tail = None
        pairs = list(zip(el.iter(), twin.iter(), strict=True))
        return cls(twin, dict(pairs), {t: positions[o] for o, t in pairs})


def _positions(root: Element) -> Positions:
    """Start and end events numbered in document order: text sits at +0.5 after its event."""
    starts: dict[Element, int] = {}
    positions: Positions = {}
    for number, (event, el) in enumerate(etree.iterwalk(root, events=("start", "end"))):
        if event == "start":
            starts[el] = number
        else:
            positions[el] = (starts[el], number)
    return positions


def _select(root: Element, selectors: Sequence[Selector], positions: Positions) -> list[_Fragment]:
    """Copies of every selected part, in document order, none inside another."""
    spans: list[tuple[float, float, Element, bool]] = []
    for selector in selectors:
        if isinstance(selector, RangeSelector):
            start, end, ancestor = _range(root, selector, positions, "select")
            spans.append((start, end, ancestor, True))
            continue
        matches = _css(root, selector, "select")
        if not matches:
            raise ExtractionError(f"select {selector!r}: matched nothing")
        spans += [(*positions[el], el, False) for el in matches]
    spans.sort(key=lambda span: (span[0], -span[1]))
    fragments: list[_Fragment] = []
    last_end = -math.inf
    for start, end, el, is_range in spans:
        if end <= last_end:
            continue  # already inside an earlier selection
        last_end = end
        fragment = _Fragment.of(el, positions)
        if is_range:
            _prune(fragment.root, fragment.positions, start, end, keep_inside=True)
        fragments.append(fragment)
    return fragments


def _remove(root: Element, selectors: Sequence[Selector], positions: Positions,
            fragments: list[_Fragment]) -> None:
    """Delete what `remove` matches on the page from inside the selected copies."""
    for selector in selectors:
        if isinstance(selector, RangeSelector):
            start, end, _ = _range(root, selector, positions, "remove")
            for fragment in fragments:
                _prune(fragment.root, fragment.positions, start, end, keep_inside=False)
            continue
        for el in _css(root, selector, "remove"):
            for fragment in fragments:
                twin = fragment.twins.get(el)
                if twin is fragment.root:
                    twin.clear()
                elif twin is not None and twin.getparent() is not None:
                    drop(twin)


def _css(root: Element, selector: str, role: str) -> list[Element]:
    try:
        return list(root.cssselect(selector))
    except (SelectorError, etree.XPathError) as err:
        raise ExtractionError(f"{role} {selector!r}: not a valid CSS selector ({err})") from err


def _range(root: Element, selector: RangeSelector, positions: Positions,
           role: str) -> tuple[float, float, Element]:
    """A range as an interval of event numbers, and the element that holds all of it."""
    name = f"{role} range {selector.start!r} → {selector.end!r}"
    ends = []
    for css, which in ((selector.start, "start"), (selector.end, "end")):
        matches = _css(root, css, role)
        if not matches:
            raise ExtractionError(f"{name}: {which} matched nothing")
        ends.append(matches[0])
    first, last = ends
    start = positions[first][0] if selector.start_inclusive else positions[first][1] + 0.5
    end = positions[last][1] if selector.end_inclusive else positions[last][0] - 0.5
    if start > end:
        raise ExtractionError(f"{name}: the end comes before the start")
    ancestors = {first, *first.iterancestors()}
    ancestor = next(el for el in (last, *last.iterancestors()) if el in ancestors)
    return start, end, ancestor


def _prune(el: Element, positions: Positions, start: float, end: float, keep_inside: bool) -> None:
    """Cut the content inside [start, end] (or outside it), keeping the elements that straddle it."""
    def doomed(point: float) -> bool:
        return (start <= point <= end) != keep_inside

    if doomed(positions[el][0] + 0.5):
        el.text = None
    for child in list(el):
        first, last = positions[child]
        if doomed(last + 0.5):
            child.tail = None
        if (start <= first and last <= end) or last < start or first > end:
            if doomed(first):
                drop(child)
        else:
            _prune(child, positions, start, end, keep_inside)


def _reveal_emails(root: Element) -> Element:
    """Decode Cloudflare's e-mail obfuscation as its script does in a browser.

    The encoded form changes on every request, so leaving it would record a change each capture.
    """
    for el in root.xpath("//*[@data-cfemail]"):
        email = _decode_email(el.get("data-cfemail"))
        if email:
            for child in list(el):
                drop(child)
            el.text = email
            el.attrib.pop("href", None)  # an encoded <a> itself becomes plain text
    for el in root.iter("a"):
        match = _PROTECTED_EMAIL.search(el.get("href") or "")
        email = _decode_email(match.group(1)) if match else None
        if email:
            el.set("href", "mailto:" + email)
    return root


def _decode_email(code: str) -> str | None:
    try:
        key, *rest = bytes.fromhex(code)
        return bytes(byte ^ key for byte in rest).decode("utf-8") or None
    except (ValueError, UnicodeDecodeError):
        return None


def _base_url(root: Element, url: str) -> str:
    base = root.find(".//base[@href]")
    return urljoin(url, base.get("href").strip()) if base is not None else url


# -- automatic main content --------------------------------------------------------------------

# ARIA landmarks and widgets that frame a document or operate the site: not part of its text.
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "searchbox",
                          "menu", "menubar", "combobox", "listbox", "toolbar", "dialog", "alertdialog",
                          "tooltip"})
SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})
LINK_DENSE = 0.5  # a block whose words are mostly link text is navigation (menus, tables of contents)
# Parts of a structure (an item, a row) are never the main content on their own: their whole is.
PARTS = frozenset({"li", "dt", "dd", "tr", "thead", "tbody", "tfoot", "caption", "summary", "legend",
                   "figcaption"})
TITLE_GAP = 0.05  # reach back to the page's <h1> only across this share of the text's words


@dataclass(frozen=True)
class _WordCount:
    total: dict[Element, int]
    chrome: dict[Element, int]  # words in navigation, widgets and link-dense blocks

    def content(self, el: Element) -> int:
        return self.total[el] - self.chrome[el]


def _is_chrome(el: Element) -> bool:
    """Navigation, sidebars, widgets, and the page's own header and footer."""
    if el.tag in ("nav", "aside") or (el.get("role") or "").strip().lower() in CHROME_ROLES:
        return True
    # A <header> or <footer> is the page's banner or footer unless it sits in sectioning content.
    return el.tag in ("header", "footer") and not any(a.tag in SECTIONING for a in el.iterancestors())


def _count_words(root: Element) -> _WordCount:
    total: dict[Element, int] = {}
    links: dict[Element, int] = {}
    chrome: dict[Element, int] = {}
    for el in reversed(list(root.iter())):  # children before their parent
        words = len(_words(el.text or "")) + sum(total[c] + len(_words(c.tail or "")) for c in el)
        total[el] = words
        links[el] = words if el.tag == "a" and el.get("href") is not None else sum(links[c] for c in el)
        dense = el.tag in BLOCKS and words > 0 and links[el] / words > LINK_DENSE
        chrome[el] = words if dense or _is_chrome(el) else sum(chrome[c] for c in el)
    return _WordCount(total, chrome)


def _main_content(fragment: _Fragment, doc_type: str | None = None) -> Element:
    """The block with the most document words net of chrome words, from the page's title if it sits
    just above, without the chrome inside. Unlike readability it keeps every item of the block.
    When it clearly holds several documents, only the one of doc_type (see `_document_of`)."""
    body = fragment.root
    count = _count_words(body)
    best, best_score = body, -math.inf
    for el in body.iter(*(BLOCKS - PARTS)):  # on a tie the deeper block wins: same text, less around it
        score = count.content(el) - count.chrome[el]
        if score >= best_score:
            best, best_score = el, score
    region = _with_title(body, best, count, fragment.positions)
    for el in [el for el in region.iter() if el is not region and _is_chrome(el)]:
        if el.getparent() is not None:
            drop(el)
    return _document_of(region, doc_type) if doc_type else region


def _with_title(body: Element, main: Element, count: _WordCount, positions: Positions) -> Element:
    """Main text and the <h1> above it (often in a banner of its own) when little lies between."""
    start, end = positions[main]
    titles = [h for h in body.iter("h1") if positions[h][1] < start
              and not any(_is_chrome(a) for a in (h, *h.iterancestors()))]
    if main.find(".//h1") is not None or not titles:
        return main
    title = titles[-1]
    ancestors = {title, *title.iterancestors()}
    common = next(el for el in main.iterancestors() if el in ancestors)
    if count.content(common) - count.content(main) - count.total[title] > TITLE_GAP * count.content(main):
        return main
    _prune(common, positions, positions[title][0], end, keep_inside=True)
    return common


# -- several documents on one page ------------------------------------------------------------

# What a document of each type is called, besides its slug read as words ("terms of service").
# A title that names one type more closely (with fewer other words) than another is of that type:
# "Commercial Terms" is commercial-terms, "Terms of Use" and "Additional Terms" are terms-of-service.
DOCUMENT_NAMES: dict[str, tuple[str, ...]] = {
    "terms-of-service": ("terms of use", "terms and conditions", "conditions of use", "general terms",
                         "user terms", "user agreement", "service agreement", "end user license agreement",
                         "eula", "terms", "conditions générales", "conditions d utilisation",
                         "nutzungsbedingungen", "términos y condiciones", "términos de uso",
                         "termini di servizio", "termini e condizioni", "allgemeine geschäftsbedingungen"),
    "privacy-policy": ("privacy notice", "privacy statement", "data policy", "data protection policy",
                       "politique de confidentialité", "datenschutzerklärung", "datenschutzhinweise",
                       "política de privacidad", "informativa sulla privacy"),
    "cookie-policy": ("cookies policy", "cookie notice", "cookie statement", "politique de cookies",
                      "politique relative aux cookies", "cookie richtlinie", "política de cookies"),
    "acceptable-use-policy": ("acceptable use",),
    "usage-policy": ("usage policies", "use policy"),
    "commercial-terms": ("business terms", "enterprise terms", "terms for business"),
    "community-guidelines": ("community standards", "community rules", "code of conduct"),
    "data-processing-agreement": ("data processing addendum", "data processing terms",
                                  "data protection addendum", "dpa"),
    "developer-terms": ("developer agreement", "developer policy", "api terms"),
    "copyright-policy": ("dmca policy", "intellectual property policy"),
}
# A short title with one of these words names a document, even of a type not listed above.
DOCUMENT_NOUNS = frozenset({"terms", "policy", "policies", "notice", "statement", "agreement", "addendum",
                            "conditions", "guidelines", "charter", "eula"})
MAX_TITLE_WORDS = 8
MIN_DOC_WORDS = 100  # a part shorter than this is a clause or a notice, not a document of its own
MAX_LOOSE_SHARE = 0.1  # text of a page of documents that lies outside them (an intro, "back to top")
# Titles of parts of a document ("2. Privacy Policy", "Annex 1") or sentences about one ("Changes to
# this Privacy Policy", "What is a cookie?"): never the title of a document.
_NOT_A_TITLE = re.compile(r"^\W*(?:\d|(?:[ivx]{1,5}|[a-z])[.)](?:\s|$)|(?:section|article|chapter|part|annex"
                          r"|appendix|schedule|exhibit)\b)|\b(?:this|these)\b|[?:]\s*$", re.I)

Title = list[str]  # a title's words


@dataclass(frozen=True)
class _Part:
    """The children [start, end) of a container: one document, under its titles."""

    start: int
    end: int
    titles: list[Title]
    words: int


def _document_of(region: Element, doc_type: str) -> Element:
    """Only the document of doc_type when the region is clearly a run of several documents.

    Clearly: in one block, two or more parts of at least MIN_DOC_WORDS words hold all but
    MAX_LOOSE_SHARE of its text, each part an element (section, article, div) whose id, label or
    opening line names a document, or the run of blocks under a heading that does (every heading
    of that rank naming one); and one part names doc_type more closely than any other type. The
    closest such part is kept, the first of equals (and split again if it is itself such a run);
    otherwise the region is returned as it is.
    """
    count = _count_words(region).total
    for container in region.iter(*BLOCKS):
        children = list(container)
        if len(children) < 2 or count[container] < 2 * MIN_DOC_WORDS:
            continue
        weights = [count[c] + len(_words(c.tail or "")) for c in children]
        for parts in (_sections(children, weights, count), _headed_runs(children, weights, count)):
            chosen = _chosen(parts, doc_type, count[container])
            if chosen is not None:
                container.text = None
                for child in children[:chosen.start] + children[chosen.end:]:
                    container.remove(child)  # with its tail: text between parts belongs to the earlier one
                container.tail = None
                return _document_of(container, doc_type)  # the part may hold documents of its own
    return region


def _chosen(parts: list[_Part], doc_type: str, words: int) -> _Part | None:
    documents = [part for part in parts if part.words >= MIN_DOC_WORDS]
    if len(documents) < 2 or sum(part.words for part in parts) < (1 - MAX_LOOSE_SHARE) * words:
        return None
    ranked = [(distance, n) for n, part in enumerate(documents)
              if (distance := _closeness(part.titles, doc_type)) is not None]
    return documents[min(ranked)[1]] if ranked else None


def _sections(children: list[Element], weights: list[int], count: dict[Element, int]) -> list[_Part]:
    """Child elements that are documents by their id, aria-label or opening line."""
    parts = []
    for n, child in enumerate(children):
        if child.tag in HEADINGS:
            continue
        names = [re.sub(r"[-_]+", " ", child.get("id") or ""), child.get("aria-label") or "",
                 _opening_line(child, count)]
        titles = [title for name in names if (title := _title(name))]
        if any(_names_a_document(title) for title in titles):
            parts.append(_Part(n, n + 1, titles, weights[n]))
    return parts


def _headed_runs(children: list[Element], weights: list[int], count: dict[Element, int]) -> list[_Part]:
    """Runs of children, each from a heading (or a short block holding one) that names a document
    to the next of its rank: only when every heading of that rank names a document."""
    headings: list[tuple[int, int, Title | None]] = []  # (child number, rank, title)
    for n, child in enumerate(children):
        heading = child if child.tag in HEADINGS else \
            next(child.iter(*HEADINGS), None) if count[child] <= MAX_TITLE_WORDS else None
        if heading is not None and count[child] > 0:
            headings.append((n, HEADINGS[heading.tag], _title(visible_text(child))))
    named = [(n, rank, title) for n, rank, title in headings if title and _names_a_document(title)]
    if not named:
        return []
    top, first = min(rank for _, rank, _ in named), min(n for n, _, _ in named)
    # another heading of that rank, or above it among the documents, makes them sections of one
    starts = {n for n, _, _ in named}
    if any(rank == top or (rank < top and n > first) for n, rank, _ in headings if n not in starts):
        return []
    runs = [(n, title) for n, rank, title in named if rank == top]
    ends = [n for n, _ in runs[1:]] + [len(children)]
    return [_Part(n, end, [title], sum(weights[n:end])) for (n, title), end in zip(runs, ends, strict=True)]


def _opening_line(el: Element, count: dict[Element, int]) -> str:
    """The text of the block that opens an element, when it is short enough to be a title."""
    for event, node in etree.iterwalk(el, events=("start", "end")):
        text = node.text if event == "start" else node.tail if node is not el else None
        if text and text.strip():
            holder = node if event == "start" else node.getparent()
            block = next(a for a in (holder, *holder.iterancestors()) if a.tag in BLOCKS or a is el)
            return visible_text(block) if count[block] <= MAX_TITLE_WORDS else ""
    return ""


def _title(text: str) -> Title | None:
    words = _words(text.replace("&", " and "))
    return words if 0 < len(words) <= MAX_TITLE_WORDS and not _NOT_A_TITLE.search(text) else None


@cache
def _type_names(doc_type: str) -> tuple[Title, ...]:
    return tuple(_words(name) for name in (doc_type.replace("-", " "), *DOCUMENT_NAMES.get(doc_type, ())))


def _distance(titles: list[Title], names: tuple[Title, ...]) -> int | None:
    """How many words of the closest title are not the name it holds; None when none holds one."""
    return min((len(title) - len(name) for title in titles for name in names
                for at in range(len(title) - len(name) + 1) if title[at:at + len(name)] == name),
               default=None)


def _names_a_document(title: Title) -> bool:
    return any(word in DOCUMENT_NOUNS for word in title) or \
        any(_distance([title], names) is not None for names in map(_type_names, DOCUMENT_NAMES))


def _closeness(titles: list[Title], doc_type: str) -> int | None:
    """How closely titles name doc_type (0: exactly); None when they name another type more closely."""
    own = _distance(titles, _type_names(doc_type))
    if own is None:
        return None
    others = [d for other in DOCUMENT_NAMES
              if other != doc_type and (d := _distance(titles, _type_names(other))) is not None]
    return own if all(own <= d for d in others) else None


# -- guards ------------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _checked(markdown: str, selected_text: str) -> Extraction:
    """Refuse Markdown that is too short or lost words of the selection on the way."""
    expected = Counter(_words(selected_text))
    found = Counter(_words(visible_text(parse_html(_MARKDOWN.render(markdown)).body)))
    words = found.total()
    if words < MIN_WORDS:
        raise ExtractionError(f"only {words} words of text (at least {MIN_WORDS} expected)")
    coverage = (expected & found).total() / max(expected.total(), 1)
    if coverage < MIN_COVERAGE:
        raise ExtractionError(f"coverage {math.floor(coverage * 100)}% < {MIN_COVERAGE:.0%}: "
                              "the Markdown lost words of the selected text")
    return Extraction(markdown, coverage, words)
