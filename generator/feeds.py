"""Atom feeds (RFC 4287) of the archive's versions. Pure: bytes from `api.SiteData`.

    feeds/all.xml                         every version of the archive, newest first (capped)
    feeds/<service>.xml                   the versions of one service's documents
    feeds/<service>/<doc-type>.xml        the versions of one document
    feeds/categories/<category>.xml       versions whose findings of one clause category changed

An entry is one version: its id is the version's permalink (a category feed's entry adds
`#category-<slug>`, being another entry about the same version), its link the version's changes
page (the version page for a first capture). Titles say what happened: "Claude.ai Terms of
Service changed", "...: technical re-extraction", "...: first capture". Summaries are plain text
(`type="text"`): captured wording is never written as markup, and ElementTree escapes it.

Deterministic: a feed's `updated` is its newest entry's capture time (for a feed with no entry,
the archive's newest capture), never the time of the build.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from . import __version__
from .api import (
    DEMO_KEY_NOTICE,
    KIND_LABELS,
    SiteData,
    previous_version,
)
from .buildkeys import SITE, category_feed_group, doc_group, service_group
from .language import language_name
from .markup import quote_text
from .model import ArchivedDocument, DocKey, Finding, Version, pages_changed
from .rules import Category
from .urls import (
    ALL_FEED_PATH,
    category_feed_path,
    category_path,
    changes_path,
    document_feed_path,
    history_path,
    service_feed_path,
    service_path,
    version_path,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 100  # entries per feed, newest kept
LISTED_FINDINGS = 10  # added / removed findings quoted in a summary, each
QUOTE_CHARS = 200  # a quoted clause is cut after this many characters


def xml_bytes(root: ET.Element) -> bytes:
    """UTF-8 XML with a declaration, indented, LF-terminated: the same tree gives the same bytes."""
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


# What XML 1.0 excludes, named directly: the same set as the complement of what it allows
# ([^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff], checked on every code point),
# which took 18 ms to compile at every start.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Drop what XML 1.0 cannot hold (control characters, U+FFFE/U+FFFF); escaping is ElementTree's."""
    return _XML_INVALID.sub("", text)



@dataclass(frozen=True)
class FeedCategory:
    term: str
    label: str | None = None
    scheme: str | None = None  # IRI of the vocabulary the term belongs to


@dataclass(frozen=True)
class FeedEntry:
    id: str  # a permanent IRI: the version's permalink
    title: str  # plain text
    link: str  # absolute URL of the page the entry is about
    updated: str  # RFC 3339, UTC, e.g. 2025-08-01T00:32:05Z
    summary: str  # plain text, may hold line breaks
    categories: tuple[FeedCategory, ...] = ()
    published: str | None = None
    related: str | None = None  # absolute URL of another page about the entry (rel="related")


@dataclass(frozen=True)
class Feed:
    path: str  # where the feed goes, relative to the site root
    url: str  # its absolute URL: rel="self" and the feed's id
    page: str  # absolute URL of the HTML page the feed follows (rel="alternate")
    title: str
    subtitle: str
    author: str  # name of the feed's author (required by RFC 4287 when entries have none)
    author_uri: str
    language: str
    rights: str
    entries: tuple[FeedEntry, ...]  # newest first
    empty_updated: str  # the feed's `updated` when it has no entry


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _head(feed: Feed, updated: str) -> ET.Element:
    attrs = {"xmlns": ATOM_NS}
    if feed.language:
        attrs["xml:lang"] = xml_text(feed.language)
    root = ET.Element("feed", attrs)
    _add(root, "id", feed.url)
    _add(root, "title", feed.title, type="text")
    if feed.subtitle:
        _add(root, "subtitle", feed.subtitle, type="text")
    _add(root, "updated", updated)
    _add(root, "link", rel="self", type="application/atom+xml", href=feed.url)
    _add(root, "link", rel="alternate", type="text/html", href=feed.page)
    author = _add(root, "author")
    _add(author, "name", feed.author)
    _add(author, "uri", feed.author_uri)
    _add(root, "generator", "clausewatch", version=__version__)
    if feed.rights:
        _add(root, "rights", feed.rights, type="text")
    return root


def entry_xml(entry: FeedEntry) -> str:
    """One entry's element, indented as a child of the feed (without the line break before it)."""
    element = ET.Element("entry")
    _add(element, "id", entry.id)
    _add(element, "title", entry.title, type="text")
    _add(element, "updated", entry.updated)
    if entry.published:
        _add(element, "published", entry.published)
    _add(element, "link", rel="alternate", type="text/html", href=entry.link)
    if entry.related:
        _add(element, "link", rel="related", type="text/html", href=entry.related)
    _add(element, "summary", entry.summary, type="text")
    for category in entry.categories:
        extra = {k: v for k, v in (("scheme", category.scheme), ("label", category.label)) if v}
        _add(element, "category", term=category.term, **extra)
    ET.indent(element, level=1)
    text: str = ET.tostring(element, encoding="unicode")
    return text


_END = b"\n</feed>\n"


def feed_xml(feed: Feed, updated: str, entries: Sequence[str]) -> bytes:
    """The feed with its entries given as entry_xml made them: the bytes xml_bytes gives the whole
    tree, so an entry made once can be kept and joined into later builds' feeds."""
    head = xml_bytes(_head(feed, updated))
    if not entries:
        return head
    assert head.endswith(_END)
    joined = "".join(f"\n  {e}" for e in entries).encode()
    return head[:-len(_END)] + joined + _END


def render_feed(feed: Feed) -> bytes:
    """One Atom document, UTF-8; every text is escaped character data, never markup."""
    updated = feed.entries[0].updated if feed.entries else feed.empty_updated
    return feed_xml(feed, updated, [entry_xml(e) for e in feed.entries])


# --- entries ------------------------------------------------------------------------------

def _time(iso: str) -> str:
    """'2025-08-01T00:32:05Z' → '2025-08-01 00:32:05 UTC'."""
    return iso.replace("T", " ").replace("Z", " UTC") if iso.endswith("Z") else iso


def entry_title(data: SiteData, v: Version, failed: bool = False) -> str:
    """Distinct for each version of a document: its kind and its date. `failed`: it looks like a
    failed capture (plausible.failed_captures)."""
    title, day = data.title(v.key), v.captured_at[:16].replace("T", " ") + " UTC"  # two a day happen
    if failed:
        return f"{title}: failed capture, kept, {day}"
    if data.formatting_only(v):
        return f"{title}: formatting change captured {day}"
    # "captured", not "changed on": a service may have changed the page any time since the last check.
    return {"first": f"{title}: first capture, {day}", "change": f"{title}: change captured {day}",
            "technical": f"{title}: technical re-extraction, {day}"}[v.kind]


def _kind_sentence(v: Version, formatting_only: bool = False) -> str:
    if formatting_only:
        return "Only the layout or markup of the text changed: no word was added, removed or moved."
    return {"first": "First capture of this document.",
            "change": "The text of the document changed.",
            "technical": "Technical re-extraction: the same capture's text was extracted again (new "
                         "selectors or extraction); this is not a change made by the service."}[v.kind]


def _compared_with(prev: Version | None, against: Version) -> str:
    if prev is not None and against.id == prev.id:
        return "the previous version"
    return f"the version of {_time(against.captured_at)}, the last before a failed capture"


def _caveats(data: SiteData, doc: ArchivedDocument, index: int) -> list[str]:
    """What a reader must know before taking the entry as the service's change."""
    lines = []
    v, against = doc.versions[index], data.compared_version(doc, index)
    if data.verification(v) is False:
        lines.append("Verification FAILED when the site was built: this version's files do not match their "
                     "SHA-256 or minisign signature, so its text, findings and changes may not be what was "
                     "captured. Do not cite it.")
    if against and data.verification(against) is False:
        lines.append(f"The version it is compared with, of {_time(against.captured_at)}, failed verification "
                     "when the site was built: the changes below may not be the service's.")
    if reason := data.failed_captures(doc).get(index):
        lines.append(f"This capture looks failed; it is kept in the archive, compared with nothing: "
                     f"{reason}.")
    previous = previous_version(doc, index)
    if against and previous is not None and against.id != previous.id:
        lines.append(f"The capture before it, of {_time(previous.captured_at)}, looks failed: the size "
                     f"change is counted against that capture, the findings against the version of "
                     f"{_time(against.captured_at)}.")
    # (against is None for a failed capture: compared with nothing)
    if against and (before := data.language(against)) != (now := data.language(v)):
        lines.append(f"The text reads as {language_name(now)}, that of the version of "
                     f"{_time(against.captured_at)} as {language_name(before)}: the page may have "
                     "been served in another language; their differences are not the service rewording "
                     "its text.")
    added, dropped = pages_changed(against, doc.versions[index]) if against else ((), ())
    if added or dropped:
        parts = ([f"added {', '.join(added)}"] if added else []) + (
            [f"no longer {', '.join(dropped)}"] if dropped else [])
        lines.append(f"The pages tracked changed ({'; '.join(parts)}): differences may come from that, "
                     "not from the service changing its text.")
    return lines


def _quote(text: str) -> str:
    text = quote_text(text)
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 1].rstrip() + "…"


def _finding_lines(data: SiteData, label: str, findings: Sequence[Finding]) -> list[str]:
    lines = []
    for f in findings[:LISTED_FINDINGS]:
        rule = data.rule(f.rule_id)
        title = rule.title if rule else f.rule_id
        context = f" (an item of the list introduced by “{_quote(f.lead_in)}”)" if f.lead_in else ""
        if f.items:
            count = len(f.items)
            context += f" (and the list it introduces: {count} {'item' if count == 1 else 'items'})"
        lines.append(f"{label} [{f.severity}] {title}{context}: “{_quote(f.quote)}”")
    if len(findings) > LISTED_FINDINGS:
        lines.append(f"… and {len(findings) - LISTED_FINDINGS} more {label.lower().rstrip(':')} findings.")
    return lines


def _changes_link(data: SiteData, v: Version, first: bool) -> str:
    return data.url(version_path(v.key, v.id) if first else changes_path(v.key, v.id))


def _base_categories(data: SiteData, v: Version) -> list[FeedCategory]:
    return [FeedCategory(v.kind, KIND_LABELS[v.kind], data.url("#kind")),
            FeedCategory(v.key.service, data.service_name(v.key.service), data.url("#service")),
            FeedCategory(v.key.doc_type, data.type_name(v.key.doc_type), data.url("#document-type"))]


def _clause_category(data: SiteData, slug: str) -> FeedCategory:
    category = data.ruleset.category(slug)
    return FeedCategory(slug, category.name if category else slug, data.url("categories/"))


def version_entry(data: SiteData, doc: ArchivedDocument, index: int) -> FeedEntry:
    """The entry of one version in the archive, service and document feeds."""
    v, prev = doc.versions[index], previous_version(doc, index)
    counts = data.counts_of(v)
    size = f"Text: {v.bytes:,} bytes"
    if prev:
        size += f" ({v.bytes - prev.bytes:+,} bytes)".replace("-", "−")
    lines = [f"{_kind_sentence(v, data.formatting_only(v))} Captured {_time(v.captured_at)}, version {v.id}.",
             f"{size}, SHA-256 {v.sha256}.", *_caveats(data, doc, index)]
    added: list[Finding] = []
    removed: list[Finding] = []
    reworded: list[tuple[Finding, Finding]] = []
    if counts is None:
        tally = "Not analysed: the text is not in English, the only language the rules read"
    else:
        tally = (f"Findings: {counts['total']} ({counts['high']} high, {counts['medium']} medium, "
                 f"{counts['low']} low)")
        compared, against = data.changes_of(doc, index), data.compared_version(doc, index)
        if against and compared is not None:
            added, removed, reworded = compared
            tally += f"; +{len(added)} / −{len(removed)} compared with {_compared_with(prev, against)}"
            if reworded:
                tally += f", and {len(reworded)} still flagged in other words"
    lines.append(tally + ".")
    lines += _finding_lines(data, "Added:", added) + _finding_lines(data, "Removed:", removed)
    lines += _finding_lines(data, "Reworded:", [new for _, new in reworded])  # still flagged, in new words
    changed = sorted({f.category for f in added + removed})
    return FeedEntry(
        id=data.url(version_path(v.key, v.id)),
        title=entry_title(data, v, index in data.failed_captures(doc)),
        link=_changes_link(data, v, prev is None), updated=v.captured_at, published=v.captured_at,
        summary="\n".join(lines),
        categories=tuple(_base_categories(data, v) + [_clause_category(data, c) for c in changed]),
        related=None if prev is None else data.url(version_path(v.key, v.id)))


def category_entry(data: SiteData, doc: ArchivedDocument, index: int, slug: str) -> FeedEntry | None:
    """The entry of one version in a category's feed, or None if that category's findings did not
    change (a first capture counts as a change when it has findings of the category)."""
    v, prev = doc.versions[index], previous_version(doc, index)
    found = data.changes_of(doc, index, slug)
    if not found or not (found.added or found.removed):  # a flag only reworded is no change of flags
        return None
    added, removed, _ = found
    category = _clause_category(data, slug)
    against = data.compared_version(doc, index)
    compared = (f"compared with {_compared_with(prev, against)}" if prev and against
                else "in the first capture of this document")
    lines = [f"+{len(added)} / −{len(removed)} findings of “{category.label}” {compared}.",
             f"{_kind_sentence(v)} Captured {_time(v.captured_at)}, version {v.id}.",
             *_caveats(data, doc, index)]
    lines += _finding_lines(data, "Added:", added) + _finding_lines(data, "Removed:", removed)
    return FeedEntry(
        id=data.url(version_path(v.key, v.id)) + f"#category-{slug}",
        title=f"{entry_title(data, v)} — +{len(added)} / −{len(removed)} findings",
        link=_changes_link(data, v, prev is None), updated=v.captured_at, published=v.captured_at,
        summary="\n".join(lines), categories=(*_base_categories(data, v), category),
        related=None if prev is None else data.url(version_path(v.key, v.id)))


# --- feeds --------------------------------------------------------------------------------

def _newest_first(docs: Sequence[ArchivedDocument]) -> list[tuple[ArchivedDocument, int]]:
    items = [(doc, i) for doc in docs for i in range(len(doc.versions))]
    items.sort(key=lambda item: (item[0].versions[item[1]].captured_at, str(item[0].key)), reverse=True)
    return items


def _feed(data: SiteData, path: str, page: str, title: str, subtitle: str,
          entries: Sequence[FeedEntry] = ()) -> Feed:
    settings = data.content.settings
    if data.demo_key:
        subtitle = f"{subtitle} {DEMO_KEY_NOTICE}".strip()
    return Feed(path=path, url=data.url(path), page=data.url(page), title=f"{settings.title}: {title}",
                subtitle=subtitle, author=settings.title, author_uri=data.base_url,
                language=settings.language, rights=settings.attribution, entries=tuple(entries),
                empty_updated=data.newest_capture())


@dataclass(frozen=True)
class PlannedEntry:
    version: tuple[ArchivedDocument, int]  # the version the entry is about
    make: Callable[[], FeedEntry]


@dataclass(frozen=True)
class FeedPlan:
    """A feed whose entries are made only when no earlier build left them (see EntryStore)."""
    feed: Feed  # without its entries
    entries: tuple[PlannedEntry, ...]  # newest first

    def made(self) -> Feed:
        return dataclasses.replace(self.feed, entries=tuple(e.make() for e in self.entries))


class EntryStore(Protocol):
    """Entries an earlier build made, as entry_xml strings kept per feed. An entry is a function of
    its version's document (every version of it, verified or not) and of the site's chrome; the
    store's `key` says so in a digest (buildkeys.py)."""

    def key(self, doc: ArchivedDocument, index: int) -> str: ...

    def load(self, path: str) -> Mapping[str, str]: ...

    def store(self, path: str, entries: Mapping[str, str]) -> None: ...


def render_plan(plan: FeedPlan, kept: EntryStore | None = None) -> bytes:
    """The feed's bytes, as render_feed(plan.made()) gives them; with `kept`, entries an earlier build
    made are joined in as they were, and the feed's entries are kept for the next build."""
    if kept is None:
        return render_feed(plan.made())
    first = plan.entries[0].version if plan.entries else None
    updated = first[0].versions[first[1]].captured_at if first else plan.feed.empty_updated  # as made
    known = kept.load(plan.feed.path)
    now = {kept.key(*e.version): e for e in plan.entries}
    made = {key: known.get(key) or entry_xml(e.make()) for key, e in now.items()}
    if made != known:
        kept.store(plan.feed.path, made)
    return feed_xml(plan.feed, updated, list(made.values()))


FeedSpec = tuple[str, str, Callable[[], FeedPlan]]  # (path, dependency group, the feed when needed)
Selection = dict[str, list[tuple[ArchivedDocument, int]]]  # category slug → versions, newest first


def category_selections(data: SiteData, limit: int = FEED_LIMIT) -> Selection:
    """Each category feed's versions: the newest `limit` whose findings of that category changed
    (a first capture counts when it has some). One pass, newest first, for all categories."""
    chosen: Selection = {c.slug: [] for c in data.ruleset.categories}
    open_slugs = set(chosen)
    for doc, i in _newest_first(data.archive.documents):
        if not open_slugs:
            break
        compared = data.changes_of(doc, i)
        if compared is None:  # a version the rules did not read changes no category's findings
            continue
        for slug in {f.category for f in compared.added + compared.removed} & open_slugs:
            chosen[slug].append((doc, i))
            if len(chosen[slug]) == limit:
                open_slugs.discard(slug)
    return chosen


def _in_category(data: SiteData, doc: ArchivedDocument, i: int, slug: str) -> FeedEntry:
    entry = category_entry(data, doc, i, slug)
    if entry is None:  # category_selections chose it for a change in that category
        raise ValueError(f"{doc.key} version {doc.versions[i].id} changed no finding of {slug}")
    return entry


def feed_specs(data: SiteData, limit: int = FEED_LIMIT,
               selections: Selection | None = None) -> list[FeedSpec]:
    """Every feed of the site, made only when asked for: a build remakes just the feeds whose
    dependency group (buildkeys.py) changed. Each has at most `limit` entries (the newest)."""
    made: dict[tuple[DocKey, int], FeedEntry] = {}

    def entry(doc: ArchivedDocument, i: int) -> FeedEntry:
        if (doc.key, i) not in made:
            made[doc.key, i] = version_entry(data, doc, i)
        return made[doc.key, i]

    def versions(chosen: Sequence[tuple[ArchivedDocument, int]]) -> tuple[PlannedEntry, ...]:
        return tuple(PlannedEntry((doc, i), partial(entry, doc, i)) for doc, i in chosen[:limit])

    def everything() -> FeedPlan:
        return FeedPlan(_feed(data, ALL_FEED_PATH, "", "every change", data.content.settings.description),
                        versions(_newest_first(data.archive.documents)))

    def service_feed(slug: str, name: str, docs: list[ArchivedDocument]) -> FeedPlan:
        return FeedPlan(_feed(data, service_feed_path(slug), service_path(slug), name,
                              f"Every version of the documents of {name}."), versions(_newest_first(docs)))

    def document_feed(doc: ArchivedDocument) -> FeedPlan:
        title = data.title(doc.key)
        return FeedPlan(_feed(data, document_feed_path(doc.key), history_path(doc.key), title,
                              f"Every version of the {title}."), versions(_newest_first([doc])))

    def category_feed(category: Category, chosen: Sequence[tuple[ArchivedDocument, int]]) -> FeedPlan:
        return FeedPlan(
            _feed(data, category_feed_path(category.slug), category_path(category.slug), category.name,
                  f"Versions whose findings of this category changed: {category.description}"),
            tuple(PlannedEntry((doc, i), partial(_in_category, data, doc, i, category.slug))
                  for doc, i in chosen[:limit]))

    specs: list[FeedSpec] = [(ALL_FEED_PATH, SITE, everything)]
    for slug, docs in data.services():
        specs.append((service_feed_path(slug), service_group(slug),
                      partial(service_feed, slug, data.service_name(slug), docs)))
        specs += [(document_feed_path(d.key), doc_group(d.key), partial(document_feed, d)) for d in docs]
    chosen = selections if selections is not None else category_selections(data, limit)
    for c in data.ruleset.categories:
        specs.append((category_feed_path(c.slug), category_feed_group(c.slug),
                      partial(category_feed, c, chosen[c.slug])))
    return specs


def feeds(data: SiteData, limit: int = FEED_LIMIT) -> list[Feed]:
    """Every feed of the site, each with at most `limit` entries (the newest)."""
    return [make().made() for _, _, make in feed_specs(data, limit)]


def feed_files(data: SiteData, limit: int = FEED_LIMIT, selections: Selection | None = None,
               kept: EntryStore | None = None) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """{path: (dependency group, the Atom bytes when needed)}; refuses two feeds on one path (a
    service slugged `all` or `categories` would take another feed's place). `kept`: entries made
    by earlier builds, joined in rather than made again."""
    out: dict[str, tuple[str, Callable[[], bytes]]] = {}
    for path, group, make in feed_specs(data, limit, selections):
        if path in out:
            raise ValueError(f"two feeds would be written to {path}: rename the service whose "
                             "slug collides with a feed of the site")
        out[path] = (group, partial(lambda make: render_plan(make(), kept), make))
    return dict(sorted(out.items()))


def build_feeds(data: SiteData, limit: int = FEED_LIMIT) -> dict[str, bytes]:
    """Every feed as {path relative to the site root: Atom bytes}."""
    return {path: make() for path, (_, make) in feed_files(data, limit).items()}
