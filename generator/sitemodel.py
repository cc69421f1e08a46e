"""Content + archive + analysis → the view models templates see. Pure: no disk, no network.

Paths here are relative to the site root and end in '/' for pages; templates prefix them
with the page's own relative root, so the site works under any base path and from disk.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import search, urls
from .checklog import Check
from .findingchanges import FindingChanges, compare_findings
from .language import language_name
from .model import (
    SEVERITIES,
    Archive,
    ArchivedDocument,
    ChangeStats,
    Content,
    DocKey,
    Finding,
    Rule,
    Version,
    pages_changed,
)
from .pages import PageText, render_page
from .plausible import Size, failed_captures
from .rules import Category, Ruleset
from .signing import PUBLISHED_KEY_IDS
from .summaries import Summary, summarize
from .trackers import NO_RAW_PAGE, PageTrackers

_ISO_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", re.ASCII)


@functools.cache  # asked for each version on every page that lists it
def format_time(iso: str) -> str:
    """'2025-08-01T00:32:05Z' → '2025-08-01 00:32:05 UTC' (archive times are always UTC)."""
    if found := _ISO_TIME.fullmatch(iso):  # the archive's form, checked without strptime (a tenth as fast)
        try:
            year, month, day, hour, minute, second = map(int, found.groups())
            datetime(year, month, day, hour, minute, second)
        except ValueError:  # no such day or time
            return iso
        return f"{iso[:10]} {iso[11:19]} UTC"
    try:
        moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")  # e.g. unpadded fields
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def severity_counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {"total": len(findings)}
    for s in SEVERITIES:
        counts[s] = sum(f.severity == s for f in findings)
    return counts


@dataclass(frozen=True)
class VersionView:
    version: Version
    number: int  # 1-based position in the document's history
    previous_id: str | None
    next_id: str | None
    findings: tuple[Finding, ...] = ()
    verified: bool | None = None  # hashes and signatures checked at build time
    change: ChangeStats | None = None  # against the previous version
    findings_added: tuple[Finding, ...] = ()
    findings_removed: tuple[Finding, ...] = ()
    findings_reworded: tuple[tuple[Finding, Finding], ...] = ()  # (before, after): still flagged
    checks_before: tuple[Check, ...] = ()  # checks after the previous version, up to this one
    trackers: PageTrackers = NO_RAW_PAGE  # found at build time; for the latest version only
    analysed: bool = True  # False: not in English, so the rules did not read it (language.py)
    language: str = "en"  # what the text reads as, a BCP 47 tag; "" when not known (language.py)
    same_text_as: str | None = None  # an earlier version (not the previous one) with this very text
    failed_capture: str = ""  # why it looks like a capture that went wrong (plausible.failed_captures)
    compared_id: str | None = None  # whose flags these are compared with: the previous good version
    pages_added: tuple[str, ...] = ()  # pages tracked for this version and not for `pages_against`
    pages_removed: tuple[str, ...] = ()
    pages_against: str | None = None  # the version before it that is no failed capture
    # how many of its clauses the next version no longer has (None: not known, as for the latest
    # version or an unverified text): the search index keeps a record of those (searchindex.py)
    superseded: int | None = None

    @property
    def id(self) -> str:
        return self.version.id

    @property
    def path(self) -> str:
        return urls.version_path(self.version.key, self.id)

    @property
    def changes_path(self) -> str:
        return urls.changes_path(self.version.key, self.id)

    def raw_path(self, suffix: str) -> str:
        """Raw files sit next to the version page: <doc>/<version-id>.md, .md.minisig, .json."""
        return urls.raw_path(self.version.key, self.id, suffix)

    @property
    def captured(self) -> str:
        return format_time(self.version.captured_at)

    @property
    def date(self) -> str:
        return self.version.captured_at[:10]

    @property
    def source(self) -> dict[str, Any]:
        return self.version.source or {}

    @property
    def source_ref(self) -> str | None:
        ref = self.source.get("ref")
        return str(ref) if ref else None

    @property
    def attribution(self) -> str | None:
        text = self.source.get("attribution")
        return str(text) if text else None

    @property
    def reordered_only(self) -> bool:
        """A change that only moved paragraphs: no word added or removed."""
        return (self.version.kind == "change" and self.change is not None and self.change.words_moved > 0
                and self.change.words_added == self.change.words_removed == 0)

    @property
    def formatting_only(self) -> bool:
        """A change in which no word was added, removed or moved: only layout or markup."""
        return self.version.kind == "change" and self.change is not None and self.change.wording_unchanged

    @property
    def kind_label(self) -> str:
        if self.failed_capture:
            return "failed capture, kept"
        if self.formatting_only:
            return "formatting only"
        if self.reordered_only:
            return "paragraphs moved only"
        return {"first": "first capture", "change": "change",
                "technical": "technical re-extraction"}[self.version.kind]

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(self.findings)

    @property
    def flagged_clauses(self) -> int:
        """How many clauses the findings are on: a sentence two rules flag, or one the text repeats
        word for word (its id numbered `c-…-2`), is one clause."""
        return len({f.clause_id.split("-")[1] for f in self.findings})

    @property
    def source_urls(self) -> list[str]:
        """The address(es) the text was captured from: each page's final URL after redirects when
        recorded, else its declared URL (a version's `final_url` is its first page's)."""
        urls = (self.version.metadata or {}).get("urls")
        declared = [str(u) for u in urls if isinstance(u, str)] if isinstance(urls, list) else []
        # Each page's final URL, where the capture that made the version recorded it.
        ended = {url: page["final_url"] for url, page in self.version.fetched_pages().items()
                 if isinstance(page.get("final_url"), str)}
        first = self.version.final_url or self.version.url
        if not first:
            return [ended.get(url, url) for url in declared]
        return [str(first), *(ended.get(url, url) for url in declared[1:])]

    @property
    def fetched(self) -> str | None:
        """For a text extracted again from pages fetched earlier (a technical version), when those
        were fetched: its capture time is the extraction's, not the page's. None otherwise."""
        if self.version.kind != "technical":
            return None
        times = sorted({p.fetched_at for p in self.version.snapshots if p.fetched_at})
        if not times or times == [self.version.captured_at]:
            return None
        return " and ".join(format_time(t) for t in times)

    @property
    def fetched_after_extraction(self) -> bool:
        """The record has the page fetched after its text was extracted again: one of the two times
        is wrong (seen in history imported from Open Terms Archive); say so rather than pick one."""
        return self.fetched is not None and any(
            p.fetched_at > self.version.captured_at for p in self.version.snapshots if p.fetched_at)

    @property
    def wayback_urls(self) -> list[tuple[str, str]]:
        """(source URL, the Wayback Machine's copy nearest the time the page was fetched), one per page."""
        fetched = [p.fetched_at for p in self.version.snapshots if p.fetched_at]
        when = min(fetched) if self.fetched and fetched else self.version.captured_at
        stamp = when.replace("-", "").replace(":", "").replace("T", "")[:14]
        return [(url, f"https://web.archive.org/web/{stamp}/{url}") for url in self.source_urls]

    def checks_summary(self) -> dict[str, int]:
        summary: dict[str, int] = {}
        for check in self.checks_before:
            if check.outcome != "new-version":
                summary[check.outcome] = summary.get(check.outcome, 0) + 1
        return summary


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    rule: Rule
    since: str  # id of the first version of the unbroken run that has this finding in this wording


@dataclass(frozen=True)
class DocumentView:
    key: DocKey
    service_name: str
    type_name: str
    declared_urls: tuple[str, ...]
    versions: tuple[VersionView, ...]  # oldest first
    findings: tuple[FindingView, ...] = ()  # of the latest version
    summary: Summary | None = None
    human_summary_html: str | None = None
    checks: tuple[Check, ...] = ()

    @property
    def path(self) -> str:
        return urls.document_path(self.key)

    @property
    def history_path(self) -> str:
        return urls.history_path(self.key)

    @property
    def latest(self) -> VersionView:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return f"{self.service_name} {self.type_name}"

    def version(self, version_id: str | None) -> VersionView | None:
        return next((v for v in self.versions if v.id == version_id), None)

    def change_caveats(self, v: VersionView) -> tuple[str, ...]:
        """In a few words, why a version's change figures may not be the service's change: the
        caveats its own page and changes page give in full (macros.html), for the lists of versions
        that show the figures (history, timeline): "+5,754 words, 100 %" after a redirect stub is
        the stub's doing."""
        notes = []
        if v.compared_id and v.compared_id != v.previous_id:
            notes.append("words counted against a failed capture")
        basis = self.version(v.pages_against)
        if basis is not None and (v.language or "und") != (basis.language or "und"):
            notes.append(f"text in {language_name(v.language)}, the version before in "
                         f"{language_name(basis.language)}")
        if v.pages_added or v.pages_removed:
            notes.append("made from other pages than the version before")
        return tuple(notes)

    def by_severity(self, severity: str) -> list[FindingView]:
        """The findings of one severity, those of one rule together (in the order each rule is first
        met, each rule's in text order): a policy that repeats one practice in eight sentences
        reads as one provision said eight times, not as eight."""
        found = [f for f in self.findings if f.finding.severity == severity]
        first: dict[str, int] = {}
        for i, f in enumerate(found):
            first.setdefault(f.rule.id, i)
        return sorted(found, key=lambda f: first[f.rule.id])

    @property
    def categories(self) -> list[str]:
        return sorted({f.finding.category for f in self.findings})

    @property
    def last_check(self) -> Check | None:
        return self.checks[-1] if self.checks else None

    @property
    def checks_since_latest(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.checked_at > self.latest.version.captured_at)

    @property
    def unchanged_since(self) -> str | None:
        """Time of the first check that found today's text, if checks were logged since."""
        latest = self.latest.id
        ok = [c for c in self.checks if c.version_id == latest and c.outcome in ("new-version", "unchanged")]
        return ok[0].checked_at if ok else None


@dataclass(frozen=True)
class ServiceView:
    slug: str
    name: str
    operator: str | None
    documents: tuple[DocumentView, ...]

    @property
    def path(self) -> str:
        return urls.service_path(self.slug)


@dataclass(frozen=True)
class CategoryEntry:
    document: DocumentView
    finding: FindingView

    @functools.cached_property
    def shown(self) -> str:
        """What a category or rule page shows of this finding, as one string (the page's other inputs
        are chrome): it keys the page (buildkeys.py) and the row (listingrows.py)."""
        f = self.finding.finding
        return "\0".join((str(self.document.key), self.document.title, self.finding.rule.id, f.clause_id,
                          f.severity, self.finding.since, str(self.since_first_archived), f.quote,
                          f.lead_in, *f.items))

    @property
    def since_first_archived(self) -> bool:
        """Dated from the document's first archived version: the wording may be older."""
        return self.finding.since == self.document.versions[0].id

    @property
    def context_path(self) -> str:
        """The clause in the first version of its unbroken run: a link that stays the same when
        newer versions keep the clause (so cross-document pages need no rebuild for them)."""
        return f"{urls.version_path(self.document.key, self.finding.since)}#{self.finding.finding.clause_id}"


@dataclass(frozen=True)
class CategoryView:
    category: Category
    rules: tuple[Rule, ...]
    entries: tuple[CategoryEntry, ...]

    @property
    def path(self) -> str:
        return urls.category_path(self.category.slug)


@dataclass(frozen=True)
class RuleView:
    rule: Rule
    entries: tuple[CategoryEntry, ...]

    @property
    def path(self) -> str:
        return urls.rule_path(self.rule.id)


@dataclass(frozen=True)
class RecentChange:
    document: DocumentView
    version: VersionView


@dataclass(frozen=True)
class PageView:
    slug: str
    text: PageText

    @property
    def path(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class EarlierRecord:
    """An older version as the search index holds it: by the wording its next version no longer has
    (earlier.py), at the older version's page."""

    doc: DocumentView
    version: VersionView  # the older version
    next: VersionView  # the version that superseded its wording

    @property
    def page(self) -> str:
        return f"{self.version.path}index.html"


@dataclass(frozen=True)
class SiteView:
    content: Content
    services: tuple[ServiceView, ...]
    categories: tuple[CategoryView, ...] = ()
    rules: tuple[RuleView, ...] = ()
    key_id: str = ""
    public_key: str = ""  # the key itself, as minisign.pub holds it: an id alone anyone can forge
    diffs: Mapping[tuple[DocKey, str], Any] = field(default_factory=dict)  # diff.TextDiff per version
    documents_per_shard: int = search.DOCUMENTS_PER_SHARD  # of the search index (search.py)

    @property
    def documents(self) -> tuple[DocumentView, ...]:
        return tuple(d for s in self.services for d in s.documents)

    def category_name(self, slug: str) -> str:
        """A category's name for readers ("Mandatory arbitration"), its slug if it has none."""
        return self.category_names.get(slug, slug)

    @functools.cached_property
    def category_names(self) -> dict[str, str]:  # asked for every finding of every record searched
        return {c.category.slug: c.category.name for c in reversed(self.categories)}

    @property
    def demo_key(self) -> bool:
        """Signed with a key whose secret half is published: say so on every page."""
        return self.key_id in PUBLISHED_KEY_IDS

    @functools.cached_property
    def pages(self) -> tuple[PageView, ...]:
        """The pages written in content/pages/, with the build's values put in."""
        settings = self.content.settings
        values = {"title": settings.title, "description": settings.description,
                  "attribution": settings.attribution, "key_id": self.key_id}
        return tuple(PageView(p.slug, render_page(p, values)) for p in self.content.pages)

    @functools.cached_property
    def rules_by_id(self) -> dict[str, RuleView]:  # a page lists many findings: look rules up once
        return {r.rule.id: r for r in self.rules}

    @functools.cached_property
    def type_names(self) -> dict[str, str]:  # document-type slug → its name, for readers
        return {t.slug: t.name for t in self.content.document_types}

    @property
    def version_count(self) -> int:
        return sum(len(d.versions) for d in self.documents)

    @property
    def search_shards(self) -> int:
        return search.shard_count(len(self.documents), self.documents_per_shard)

    @functools.cached_property
    def earlier_records(self) -> tuple[EarlierRecord, ...]:
        """The older versions the search index holds a record of, in the order their wording was
        superseded (then by page): a new version's record comes last, into the smallest of the
        records' bundles (search.record_chunks). One is made when the older version and the next
        one verified, the next one is no technical version (its differences are how the same page
        was extracted again: nothing the service stopped saying), neither is a failed capture (its
        clauses are a stub's or another page's), and the older one had wording the next one lacks."""
        found = [EarlierRecord(doc, old, new) for doc in self.documents
                 for old, new in zip(doc.versions, doc.versions[1:], strict=False)
                 if old.verified and new.verified and not new.version.technical
                 and not (old.failed_capture or new.failed_capture) and old.superseded]
        return tuple(sorted(found, key=lambda r: (r.next.version.captured_at, r.page)))

    @property
    def merged_search_bundles(self) -> list[str]:
        """The bundles the search page merges into the main one: the other shards of pages, then
        the bundles of records of earlier wording."""
        return (search.merged_bundles([d.path for d in self.documents], self.search_shards)
                + [f"{folder}/" for _, _, folder in search.record_chunks(len(self.earlier_records))])

    def recent(self, technical: bool, limit: int) -> list[RecentChange]:
        """The newest changes in wording by the services, or (technical) the newest versions that
        change no wording: re-extractions, changes of layout only, and failed captures."""
        changes = [RecentChange(d, v) for d in self.documents for v in d.versions
                   if (v.version.kind == "technical" or v.formatting_only or v.failed_capture != "")
                   == technical]
        changes.sort(key=lambda c: (c.version.version.captured_at, str(c.document.key)), reverse=True)
        return changes[:limit]

    @property
    def totals(self) -> dict[str, int]:
        return severity_counts([f.finding for d in self.documents for f in d.findings])

    def matrix(self) -> list[tuple[ServiceView, list[tuple[CategoryView, str | None, int]]]]:
        """Services × categories: the most severe finding and how many, per cell."""
        severities: dict[tuple[str, str], list[str]] = {}  # (service, category) → its findings' severities
        for category in self.categories:
            for e in category.entries:
                severities.setdefault((e.document.key.service, category.category.slug), []).append(
                    e.finding.finding.severity)
        rows = []
        for service in self.services:
            cells = []
            for category in self.categories:
                found = severities.get((service.slug, category.category.slug), [])
                worst: str | None = min(found, key=SEVERITIES.index) if found else None
                cells.append((category, worst, len(found)))
            rows.append((service, cells))
        return rows


@dataclass(frozen=True)
class Analysis:
    """Everything computed from the archive before rendering (I/O happens in the pipeline)."""

    findings: Mapping[tuple[DocKey, str], Sequence[Finding]]
    verified: Mapping[tuple[DocKey, str], bool] = field(default_factory=dict)
    changes: Mapping[tuple[DocKey, str], ChangeStats] = field(default_factory=dict)
    checks: Mapping[DocKey, Sequence[Check]] = field(default_factory=dict)
    human_summaries: Mapping[DocKey, str] = field(default_factory=dict)  # rendered HTML
    diffs: Mapping[tuple[DocKey, str], Any] = field(default_factory=dict)  # diff.TextDiff per version
    trackers: Mapping[DocKey, PageTrackers] = field(default_factory=dict)  # of each latest version
    # versions not analysed, not being in English, with the language each reads as ("" unknown)
    unread: Mapping[tuple[DocKey, str], str] = field(default_factory=dict)
    # each compared version's flags added, removed and reworded (analysis.py keeps them in the build
    # cache); a version missing here is compared on the spot
    finding_changes: Mapping[tuple[DocKey, str], FindingChanges] = field(default_factory=dict)
    # how many clauses of each older version the next one no longer has (analysis.py), per verified pair
    superseded: Mapping[tuple[DocKey, str], int] = field(default_factory=dict)


def _severity_order(f: Finding) -> tuple[int, int, str]:
    """Findings as a reader scans them: high first, then in text order."""
    return SEVERITIES.index(f.severity), f.start, f.rule_id


def _most_severe_first(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=_severity_order))


def _versions(doc: ArchivedDocument, analysis: Analysis,
              checks: Sequence[Check]) -> tuple[VersionView, ...]:
    ids = [v.id for v in doc.versions]
    languages = [analysis.unread.get((doc.key, v.id), "en") for v in doc.versions]
    failed = failed_captures([Size(v.bytes, lang == "en") for v, lang in zip(doc.versions, languages,
                                                                            strict=True)])
    first_with_text: dict[str, str] = {}  # text SHA-256 → the first version with it
    views = []
    # Flags are compared with the last version that is no failed capture: a stub between two
    # versions would otherwise read as the service deleting its policy, then writing it anew.
    previous: tuple[Finding, ...] = ()
    previous_read, previous_id = False, None
    previous_index: int | None = None
    for i, v in enumerate(doc.versions):
        findings = tuple(analysis.findings.get((doc.key, v.id), ()))
        after = doc.versions[i - 1].captured_at if i else ""
        between = tuple(c for c in checks if after < c.checked_at <= v.captured_at)
        language = languages[i]
        read = language == "en"
        compared = read and previous_read and i not in failed  # only between versions the rules read
        changes = FindingChanges([], [], [])
        if compared:
            known = analysis.finding_changes.get((doc.key, v.id))
            changes = known if known is not None else compare_findings(previous, findings)
        # the pages it was made from, against the version it is compared with (a failed capture's
        # say nothing: it is compared with nothing)
        basis = previous_index if i not in failed else None
        pages = pages_changed(doc.versions[basis], v) if basis is not None else ((), ())
        views.append(VersionView(
            v, i + 1, ids[i - 1] if i else None, ids[i + 1] if i + 1 < len(ids) else None,
            findings=findings, verified=analysis.verified.get((doc.key, v.id)),
            superseded=analysis.superseded.get((doc.key, v.id)),
            change=analysis.changes.get((doc.key, v.id)),
            findings_added=_most_severe_first(changes.added),
            findings_removed=_most_severe_first(changes.removed),
            findings_reworded=tuple(sorted(changes.reworded, key=lambda pair: _severity_order(pair[1]))),
            checks_before=between,
            trackers=analysis.trackers.get(doc.key, NO_RAW_PAGE) if i == len(ids) - 1 else NO_RAW_PAGE,
            analysed=read, language=language,
            same_text_as=first_with_text.get(v.sha256) if i and v.sha256 != doc.versions[i - 1].sha256
            else None,
            failed_capture=failed.get(i, ""), compared_id=previous_id if compared else None,
            pages_added=pages[0], pages_removed=pages[1],
            pages_against=ids[basis] if basis is not None else None,
        ))
        first_with_text.setdefault(v.sha256, v.id)
        if i not in failed:
            previous, previous_read, previous_id, previous_index = findings, read, v.id, i
    return tuple(views)


# (rule id, clause id, quote, items of the list it introduces): a clause keeps its id through changes
# of punctuation and symbols ("$100" and "€100" are the same words), its wording does not.
Wording = tuple[str, str, str, tuple[str, ...]]


def _wording(finding: Finding) -> Wording:
    return finding.rule_id, finding.clause_id, finding.quote, finding.items


def _since(versions: Sequence[VersionView], keys: Sequence[Set[Wording]], key: Wording) -> str:
    """The first version of the run of latest versions that all have the finding in the same
    wording: its clause as quoted, and the items of the list it introduces, which it quotes too;
    `keys`: each version's wordings (taken once per document, not once per finding)."""
    since = versions[-1].id
    for view, found in zip(reversed(versions), reversed(keys), strict=True):
        if view.failed_capture:  # a stub or another page says nothing of the wording
            continue
        if key not in found:
            break
        since = view.id
    return since


def _document_view(content: Content, rules: dict[str, Rule], doc: ArchivedDocument,
                   analysis: Analysis) -> DocumentView:
    service = content.service(doc.key.service)
    doc_type = content.document_type(doc.key.doc_type)
    declaration = content.declaration(doc.key)
    checks = tuple(analysis.checks.get(doc.key, ()))
    versions = _versions(doc, analysis, checks)
    latest = versions[-1]
    keys = [{_wording(f) for f in v.findings} for v in versions]
    findings = tuple(FindingView(f, rules[f.rule_id], _since(versions, keys, _wording(f)))
                     for f in latest.findings if f.rule_id in rules)
    type_name = doc_type.name if doc_type else doc.key.doc_type.replace("-", " ").title()
    # An archived document whose declaration was removed keeps its history on the site.
    service_name = service.name if service else doc.key.service
    return DocumentView(
        key=doc.key, service_name=service_name, type_name=type_name,
        declared_urls=tuple(p.url for p in declaration.pages) if declaration else (),
        versions=versions, findings=findings,
        summary=summarize(f"{service_name} {type_name}", latest.findings, rules, latest.analysed),
        human_summary_html=analysis.human_summaries.get(doc.key), checks=checks,
    )


def build_site_view(content: Content, archive: Archive, ruleset: Ruleset, analysis: Analysis,
                    key_id: str = "", documents_per_shard: int = search.DOCUMENTS_PER_SHARD,
                    public_key: str = "") -> SiteView:
    rules = {r.id: r for r in ruleset.rules}
    by_service: dict[str, list[DocumentView]] = {}
    for doc in archive.documents:
        by_service.setdefault(doc.key.service, []).append(_document_view(content, rules, doc, analysis))
    services = []
    for slug, docs in sorted(by_service.items()):
        service = content.service(slug)
        services.append(ServiceView(slug, service.name if service else slug,
                                    service.operator if service else None, tuple(docs)))
    entries = [CategoryEntry(d, f) for s in services for d in s.documents for f in d.findings]
    entries.sort(key=lambda e: (SEVERITIES.index(e.finding.finding.severity), str(e.document.key)))
    # Grouped in one pass, in that order: not a pass over every entry for each category and rule.
    by_category: dict[str, list[CategoryEntry]] = {}
    by_rule: dict[str, list[CategoryEntry]] = {}
    for e in entries:
        by_category.setdefault(e.finding.finding.category, []).append(e)
        by_rule.setdefault(e.finding.rule.id, []).append(e)
    categories = tuple(
        CategoryView(c, tuple(r for r in ruleset.rules if r.category == c.slug),
                     tuple(by_category.get(c.slug, ())))
        for c in ruleset.categories)
    rule_views = tuple(RuleView(r, tuple(by_rule.get(r.id, ())))
                       for r in sorted(ruleset.rules, key=lambda r: (r.category, r.id)))
    return SiteView(content, tuple(services), categories, rule_views, key_id, public_key, analysis.diffs,
                    documents_per_shard)
