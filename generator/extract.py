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
from urllib.parse import urljoin

from cssselect import SelectorError
from lxml import etree
from markdown_it import MarkdownIt

from generator.docpick import document_of
from generator.htmlmd import (
    BLOCKS,
    Element,
    drop,
    html_to_markdown,
    parse_html,
    strip_non_text,
    visible_text,
)
from generator.model import RangeSelector, Selector, SourcePage
from generator.noise import NOISE_TIME_LIMIT_S, SlowNoise, apply_noise_filters
from generator.normalize import canonical_markdown
from generator.pagewords import WordCount, count_words, is_chrome, words_of
from generator.timelimit import TimeLimitExceeded, time_limit

MIN_COVERAGE = 0.9  # share of the selection's words that must survive into the Markdown
# Real policy pages of 600 KB extract in under 0.6 s; a hostile page of nested lists took minutes.
EXTRACTION_TIME_LIMIT_S = 30.0
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


# The failures a declaration's selectors cause, by the words this module says them in.
_SELECTOR_TROUBLE = re.compile(r"matched nothing|not a valid CSS selector|the end comes before the start")


def caused_by_selectors(err: ExtractionError) -> bool:
    """Whether the fix is in the selectors (select, remove, a range), not in the page."""
    return bool(_SELECTOR_TROUBLE.search(str(err)))


def extract_page(html: str, page: SourcePage, base_url: str | None = None, *,
                 doc_type: str | None = None) -> Extraction:
    """Markdown of one page: declared selection (or the automatic main content), minus removals.

    Links resolve against base_url (the URL the page came from after redirects), else page.url.
    doc_type (a document-type slug) lets the automatic main content keep only that document when
    the page clearly holds several; it changes nothing when a selection is declared.
    """
    try:
        with time_limit(EXTRACTION_TIME_LIMIT_S):
            return _extract(html, page, base_url, doc_type)
    except RecursionError as err:  # the tree walks recurse once or twice per level of nesting
        raise ExtractionError("the page nests elements too deeply to convert") from err
    except TimeLimitExceeded as err:
        raise ExtractionError(f"extraction took over {EXTRACTION_TIME_LIMIT_S:g} s (a real policy page "
                              "takes under one): the page is built to be costly, or is not the policy "
                              "(fix: check the page; declare `select:` for its text)") from err


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
        email = bytes(byte ^ key for byte in rest).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return email if email and email.isprintable() else None  # no address holds a control character


def _base_url(root: Element, url: str) -> str:
    base = root.find(".//base[@href]")
    return urljoin(url, base.get("href").strip()) if base is not None else url


# -- automatic main content --------------------------------------------------------------------

# Parts of a structure (an item, a row) are never the main content on their own: their whole is.
PARTS = frozenset({"li", "dt", "dd", "tr", "thead", "tbody", "tfoot", "caption", "summary", "legend",
                   "figcaption"})
TITLE_GAP = 0.05  # reach back to the page's <h1> only across this share of the text's words


def _main_content(fragment: _Fragment, doc_type: str | None = None) -> Element:
    """The block with the most document words net of chrome words, from the page's title if it sits
    just above, without the chrome inside. Unlike readability it keeps every item of the block.
    When it clearly holds several documents, only the one of doc_type (see generator.docpick)."""
    body = fragment.root
    count = count_words(body)
    best, best_score = body, -math.inf
    for el in body.iter(*(BLOCKS - PARTS)):  # on a tie the deeper block wins: same text, less around it
        score = count.content(el) - count.chrome[el]
        if score >= best_score:
            best, best_score = el, score
    region = _with_title(body, best, count, fragment.positions)
    for el in [el for el in region.iter() if el is not region and is_chrome(el)]:
        if el.getparent() is not None:
            drop(el)
    return document_of(region, doc_type) if doc_type else region


def _with_title(body: Element, main: Element, count: WordCount, positions: Positions) -> Element:
    """Main text and the <h1> above it (often in a banner of its own) when little lies between."""
    start, end = positions[main]
    titles = [h for h in body.iter("h1") if positions[h][1] < start
              and not any(is_chrome(a) for a in (h, *h.iterancestors()))]
    if main.find(".//h1") is not None or not titles:
        return main
    title = titles[-1]
    ancestors = {title, *title.iterancestors()}
    common = next(el for el in main.iterancestors() if el in ancestors)
    if count.content(common) - count.content(main) - count.total[title] > TITLE_GAP * count.content(main):
        return main
    _prune(common, positions, positions[title][0], end, keep_inside=True)
    return common


# -- guards ------------------------------------------------------------------------------------

def denoised_text(parts: Sequence[str], noise: Sequence[re.Pattern[str]]) -> str:
    """A document's text from its pages' Markdown, with the declared noise deleted; refused when
    the noise patterns leave too little of it (each page passed `_checked` before)."""
    try:
        text = canonical_markdown(apply_noise_filters("\n".join(parts), noise, NOISE_TIME_LIMIT_S))
    except SlowNoise as err:
        raise ExtractionError(f"{err} (fix: simplify it in the declaration's `noise:`, without a "
                              "repeated group that can match the same words in many ways, such as "
                              "(\\w+ ?)+; try it on the saved page with `clausewatch extract PAGE.html "
                              "--as KEY`, or, once the document has a version, `clausewatch validate`, "
                              "which tries each pattern on its latest text)") from err
    if noise and (words := len(words_of(text))) < MIN_WORDS:
        raise ExtractionError(f"only {words} words left after the noise filters (at least {MIN_WORDS} "
                              "expected): a noise pattern deletes the document's text")
    return text


def _checked(markdown: str, selected_text: str) -> Extraction:
    """Refuse Markdown that is too short or lost words of the selection on the way."""
    expected = Counter(words_of(selected_text))
    found = Counter(words_of(visible_text(parse_html(_MARKDOWN.render(markdown)).body)))
    words = found.total()
    if words < MIN_WORDS:
        raise ExtractionError(f"only {words} words of text (at least {MIN_WORDS} expected)")
    coverage = (expected & found).total() / max(expected.total(), 1)
    if coverage < MIN_COVERAGE:
        raise ExtractionError(f"coverage {math.floor(coverage * 100)}% < {MIN_COVERAGE:.0%}: "
                              "the Markdown lost words of the selected text")
    return Extraction(markdown, coverage, words)
