"""Which document of a page of several to keep: legal pages often hold the terms, the privacy
policy and the cookie policy one after another, and a declaration asks for one of them. Cautious by
design: unless the page is clearly a run of documents, all of it is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lxml import etree

from generator.htmlmd import BLOCKS, HEADINGS, Element, visible_text
from generator.pagewords import count_words, words_of

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


def document_of(region: Element, doc_type: str) -> Element:
    """Only the document of doc_type when the region is clearly a run of several documents.

    Clearly: in one block, two or more parts of at least MIN_DOC_WORDS words hold all but
    MAX_LOOSE_SHARE of its text, each part an element (section, article, div) whose id, label or
    opening line names a document, or the run of blocks under a heading that does (every heading
    of that rank naming one); and one part names doc_type more closely than any other type. The
    closest such part is kept, the first of equals (and split again if it is itself such a run);
    otherwise the region is returned as it is.
    """
    count = count_words(region).total
    for container in region.iter(*BLOCKS):
        children = list(container)
        if len(children) < 2 or count[container] < 2 * MIN_DOC_WORDS:
            continue
        weights = [count[c] + len(words_of(c.tail or "")) for c in children]
        for parts in (_sections(children, weights, count), _headed_runs(children, weights, count)):
            chosen = _chosen(parts, doc_type, count[container])
            if chosen is not None:
                container.text = None
                for child in children[:chosen.start] + children[chosen.end:]:
                    container.remove(child)  # with its tail: text between parts belongs to the earlier one
                container.tail = None
                return document_of(container, doc_type)  # the part may hold documents of its own
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
    words = words_of(text.replace("&", " and "))
    return words if 0 < len(words) <= MAX_TITLE_WORDS and not _NOT_A_TITLE.search(text) else None


@cache
def _type_names(doc_type: str) -> tuple[Title, ...]:
    return tuple(words_of(name) for name in (doc_type.replace("-", " "), *DOCUMENT_NAMES.get(doc_type, ())))


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
