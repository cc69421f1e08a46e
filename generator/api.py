"""The site's machine-readable data: a static JSON API. Pure: bytes from `SiteData`.

Everything here (and in `feeds.py` and `sitemap.py`) is a function of one `SiteData`, loaded beforehand by
`load_site_data` (which reads the version texts to analyze them, and the check logs). The same
input always gives the same bytes: no build time, no dict order, no locale.

Output, as {path relative to the site root: bytes}:

    api/index.json                           site, counts, every service and document
    api/<service>/<doc-type>.json            one document: all versions, latest findings, checks
    api/<service>/<doc-type>/<version>.json  one version: metadata, findings, changes, raw files
    api/rules.json, api/categories.json      the ruleset, with where each rule / category matches

JSON is written like the archive's: sorted keys, 2-space indent, UTF-8, trailing newline. Links are
absolute URLs under `content.settings.base_url`, following the URL contract of architecture.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import orjson

from . import GENERATOR
from .analyze import Analyzer
from .archive import PUBLIC_KEY_FILE
from .buildkeys import SITE, doc_group
from .checklog import Check, read_checks
from .findingchanges import FindingChanges, compare_findings
from .findingjson import finding_record
from .language import SAMPLE as LANGUAGE_SAMPLE
from .language import reads_as_english, text_language
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
)
from .plausible import Size, failed_captures
from .rules import Ruleset
from .signing import PUBLISHED_KEY_IDS
from .urls import (
    ALL_FEED_PATH,
    category_feed_path,
    category_path,
    changes_path,
    checks_log_path,
    document_api_path,
    document_feed_path,
    document_path,
    history_path,
    raw_path,
    rule_path,
    service_feed_path,
    service_path,
    version_api_path,
    version_path,
)

API_VERSION = 1
RAW_SUFFIXES = {"md": ".md", "md_minisig": ".md.minisig", "json": ".json", "json_minisig": ".json.minisig"}
KIND_LABELS = {"first": "first capture", "change": "change", "technical": "technical re-extraction"}

VersionRef = tuple[DocKey, str]  # (document, version id)
DEMO_KEY_NOTICE = ("Sample data: signed with a demo key whose secret half is published with the code, so its "
                   "signatures show that a file is intact as published, not who signed it.")
@dataclass(frozen=True)
class SiteData:
    """The inputs of the feeds, the JSON API and the sitemap.

    `findings` holds the findings of every version of the archive, keyed by (document key, version
    id), as `Analyzer(ruleset.rules).analyze(doc_type, text)` returns them (a missing entry counts as
    no findings). `checks` holds each document's check log, oldest first (`checklog.read_checks`);
    documents without a log are simply absent.
    """

    content: Content
    archive: Archive
    ruleset: Ruleset
    findings: Mapping[VersionRef, Sequence[Finding]] = field(default_factory=dict)
    checks: Mapping[DocKey, Sequence[Check]] = field(default_factory=dict)
    # versions not analysed, not being in English, with the language each reads as ("" unknown)
    unread: Mapping[VersionRef, str] = field(default_factory=dict)
    changes: Mapping[VersionRef, ChangeStats] = field(default_factory=dict)  # against the previous one
    # against the version compared with (analysis.py); a version missing here is compared on the spot
    finding_changes: Mapping[VersionRef, FindingChanges] = field(default_factory=dict)
    # whether each version's hashes and signatures verified when the site was built (absent: not checked)
    verified: Mapping[VersionRef, bool] = field(default_factory=dict)
    key_id: str = ""  # of the archive's public key ("" when not known)
    _failed: dict[DocKey, dict[int, str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # each version's finding changes, asked for by its JSON, its feed entries and the category feeds
    _compared: dict[tuple[DocKey, int, str | None], FindingChanges | None] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @property
    def base_url(self) -> str:
        base = self.content.settings.base_url
        return base if base.endswith("/") else base + "/"

    def url(self, path: str) -> str:
        """Absolute URL of a path relative to the site root ('' is the home page)."""
        return self.base_url + path

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.ruleset.rules if r.id == rule_id), None)

    def findings_of(self, version: Version) -> Sequence[Finding]:
        return self.findings.get((version.key, version.id), ())

    @property
    def demo_key(self) -> bool:
        """Signed with a key whose secret half is published (the sample archive's)."""
        return self.key_id in PUBLISHED_KEY_IDS

    def signing_json(self) -> dict[str, Any]:
        """What the signatures prove, for the data as for the pages."""
        return {"key_id": self.key_id or None, "public_key": self.url(PUBLIC_KEY_FILE),
                "demo_key": self.demo_key, "notice": DEMO_KEY_NOTICE if self.demo_key else None}

    def verification(self, version: Version) -> bool | None:
        """True or False as the version's files verified at build time; None when not checked."""
        return self.verified.get((version.key, version.id))

    def analysed(self, version: Version) -> bool:
        return (version.key, version.id) not in self.unread

    def language(self, version: Version) -> str | None:
        """The language the text reads as (a BCP 47 tag), None when not known (language.py)."""
        return self.unread.get((version.key, version.id), "en") or None

    def counts_of(self, version: Version) -> dict[str, int] | None:
        """Severity counts, or None for a version the rules did not read (never a clean record)."""
        return severity_counts(self.findings_of(version)) if self.analysed(version) else None

    def failed_captures(self, doc: ArchivedDocument) -> dict[int, str]:
        """Versions that look like captures gone wrong, by index (plausible.failed_captures)."""
        if doc.key not in self._failed:
            self._failed[doc.key] = failed_captures([Size(v.bytes, self.analysed(v)) for v in doc.versions])
        return self._failed[doc.key]

    def compared_version(self, doc: ArchivedDocument, index: int) -> Version | None:
        """The version this one's findings are compared with: the last before it that is no failed
        capture (None for the first version; a failed capture is compared with nothing)."""
        failed = self.failed_captures(doc)
        if index in failed:
            return None
        return next((doc.versions[i] for i in range(index - 1, -1, -1) if i not in failed), None)

    def changes_of(self, doc: ArchivedDocument, index: int,
                   category: str | None = None) -> FindingChanges | None:
        """(added, removed) findings against the version compared with (`compared_version`); None
        when either was not read, or this one is a failed capture."""
        memo = (doc.key, index, category)
        if memo not in self._compared:
            if category is not None:
                every = self.changes_of(doc, index)
                self._compared[memo] = every.of_category(category) if every is not None else None
                return self._compared[memo]
            v, prev = doc.versions[index], self.compared_version(doc, index)
            read = self.analysed(v) and (prev is None or self.analysed(prev))
            known = self.finding_changes.get((doc.key, v.id)) if prev else None
            self._compared[memo] = None if not read or index in self.failed_captures(doc) else (
                known if known is not None else
                compare_findings(self.findings_of(prev) if prev else None, self.findings_of(v)))
        return self._compared[memo]

    def formatting_only(self, v: Version) -> bool:
        change = self.changes.get((v.key, v.id))
        return v.kind == "change" and change is not None and change.wording_unchanged

    def service_name(self, slug: str) -> str:
        # An archived document whose declaration was removed keeps its history (as in sitemodel).
        service = self.content.service(slug)
        return service.name if service else slug

    def type_name(self, slug: str) -> str:
        doc_type = self.content.document_type(slug)
        return doc_type.name if doc_type else slug.replace("-", " ").title()

    def title(self, key: DocKey) -> str:
        return f"{self.service_name(key.service)} {self.type_name(key.doc_type)}"

    def services(self) -> list[tuple[str, list[ArchivedDocument]]]:
        """Services that have archived documents, by slug, with their documents."""
        by_service: dict[str, list[ArchivedDocument]] = {}
        for doc in sorted(self.archive.documents, key=lambda d: d.key):
            by_service.setdefault(doc.key.service, []).append(doc)
        return sorted(by_service.items())

    def newest_capture(self) -> str:
        """The newest capture time of the archive: the date of anything that shows all of it."""
        return self._newest_capture

    @cached_property
    def _newest_capture(self) -> str:  # asked for by every feed: computed once (the data is frozen)
        times = [v.captured_at for d in self.archive.documents for v in d.versions]
        return max(times, default="1970-01-01T00:00:00Z")


def api_json(value: Any) -> bytes:
    """The archive's JSON form (archive.dump_json's bytes, for values without floats: the API has
    none) by orjson, some twenty times faster than the standard library's indenting encoder."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def analyze_versions(archive: Archive, ruleset: Ruleset, read: Callable[[Version], str] = Version.read_text,
                     ) -> dict[VersionRef, tuple[Finding, ...]]:
    """Findings of every version (reads every text; 10-25 s for the sample archive on these machines)."""
    analyzer = Analyzer(ruleset.rules)
    found: dict[VersionRef, tuple[Finding, ...]] = {}
    for doc in archive.documents:
        for v in doc.versions:
            text = read(v)
            english = reads_as_english(text)
            found[v.key, v.id] = tuple(analyzer.analyze(v.key.doc_type, text)) if english else ()
    return found


def _head(version: Version) -> str:
    """The start of a version's text, all that reads_as_english looks at (a missing or damaged
    text reads as what is left of it, as Version.read_text does)."""
    try:
        with version.text_path.open(encoding="utf-8", errors="replace") as text:
            return text.read(LANGUAGE_SAMPLE)
    except OSError:
        return ""


def unread_versions(archive: Archive, read: Callable[[Version], str] = _head) -> dict[VersionRef, str]:
    """The versions the rules cannot read (not in English), with the language each reads as; reads
    only the start of each text."""
    languages = ((v.key, v.id, text_language(read(v))) for doc in archive.documents for v in doc.versions)
    return {(key, vid): language for key, vid, language in languages if language != "en"}


def load_site_data(content: Content, archive: Archive, ruleset: Ruleset,
                   findings: Mapping[VersionRef, Sequence[Finding]] | None = None) -> SiteData:
    """Analyze every version (unless `findings` is given) and read every check log present."""
    checks = {doc.key: tuple(read_checks(doc.directory)) for doc in archive.documents}
    return SiteData(content, archive, ruleset,
                    analyze_versions(archive, ruleset) if findings is None else findings,
                    {key: log for key, log in checks.items() if log}, unread_versions(archive))


# --- findings -----------------------------------------------------------------------------

def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {"total": sum(counts.values()), **{s: counts[s] for s in SEVERITIES}}


def previous_version(doc: ArchivedDocument, index: int) -> Version | None:
    return doc.versions[index - 1] if index else None


# --- JSON API -----------------------------------------------------------------------------

def _finding_json(data: SiteData, f: Finding, page: str) -> dict[str, Any]:
    rule = data.rule(f.rule_id)
    return {**finding_record(f, rule.title if rule else None), "link": data.url(f"{page}#{f.clause_id}"),
            "rule": data.url(rule_path(f.rule_id))}


def _version_links(data: SiteData, v: Version, first: bool) -> dict[str, str | None]:
    links: dict[str, str | None] = {name: data.url(raw_path(v.key, v.id, suffix))
                                    for name, suffix in RAW_SUFFIXES.items()}
    links.update(page=data.url(version_path(v.key, v.id)),
                 changes=None if first else data.url(changes_path(v.key, v.id)),
                 api=data.url(version_api_path(v.key, v.id)))
    return links


def _version_summary(data: SiteData, doc: ArchivedDocument, i: int) -> dict[str, Any]:
    v = doc.versions[i]
    urls = list(v.tracked_urls)
    change = data.changes.get((v.key, v.id))
    return {"id": v.id, "number": i + 1, "captured_at": v.captured_at, "kind": v.kind,
            "technical": v.technical, "formatting_only": data.formatting_only(v), "sha256": v.sha256,
            "bytes": v.bytes, "url": v.url, "urls": urls,
            "final_url": v.final_url, "http_status": v.http_status,
            "words": None if change is None else {
                "added": change.words_added, "removed": change.words_removed, "moved": change.words_moved,
                "percent_changed": change.percent_changed, "fraction_changed": change.fraction_changed},
            "language": data.language(v), "analysed": data.analysed(v), "severity_counts": data.counts_of(v),
            "failed_capture": data.failed_captures(doc).get(i), "verified": data.verification(v),
            "links": _version_links(data, v, first=i == 0)}


def _names(data: SiteData, key: DocKey) -> dict[str, Any]:
    service = data.content.service(key.service)
    return {"key": str(key), "title": data.title(key),
            "service": {"slug": key.service, "name": data.service_name(key.service),
                        "operator": service.operator if service else None},
            "doc_type": {"slug": key.doc_type, "name": data.type_name(key.doc_type)}}


def _checks_json(data: SiteData, key: DocKey, log: Sequence[Check]) -> dict[str, Any] | None:
    if not log:
        return None
    last = log[-1]
    succeeded = [c for c in log if c.outcome in ("new-version", "unchanged")]
    return {"count": len(log), "outcomes": dict(sorted(Counter(c.outcome for c in log).items())),
            "last": {"checked_at": last.checked_at, "outcome": last.outcome, "reason": last.reason,
                     "http_status": last.http_status, "version_id": last.version_id},
            "last_success": succeeded[-1].checked_at if succeeded else None,
            "log": data.url(checks_log_path(key))}


def version_json(data: SiteData, doc: ArchivedDocument, i: int) -> dict[str, Any]:
    v = doc.versions[i]
    prev = previous_version(doc, i)
    nxt = doc.versions[i + 1] if i + 1 < len(doc.versions) else None
    page = version_path(v.key, v.id)
    findings = data.findings_of(v)
    changes = None
    compared, against = data.changes_of(doc, i), data.compared_version(doc, i)
    if against and compared is not None:
        before = version_path(v.key, against.id)
        changes = {"previous": against.id,
                   "added": [_finding_json(data, f, page) for f in compared.added],
                   "removed": [_finding_json(data, f, before) for f in compared.removed],
                   "reworded": [{"before": _finding_json(data, old, before),
                                 "after": _finding_json(data, new, page)} for old, new in compared.reworded]}
    links = _version_links(data, v, first=prev is None)
    links.update(document=data.url(document_path(v.key)), history=data.url(history_path(v.key)),
                 document_api=data.url(document_api_path(v.key)),
                 previous_api=data.url(version_api_path(v.key, prev.id)) if prev else None,
                 next_api=data.url(version_api_path(v.key, nxt.id)) if nxt else None)
    return {**_names(data, v.key), **_version_summary(data, doc, i),
            "kind_label": KIND_LABELS[v.kind], "snapshot_id": v.snapshot_id,
            "snapshots": [{"file": s.file, "url": s.url, "fetched_at": s.fetched_at, "sha256": s.sha256,
                           "bytes": s.bytes} for s in v.snapshots],
            "source": v.source, "previous": prev.id if prev else None, "next": nxt.id if nxt else None,
            "findings": [_finding_json(data, f, page) for f in findings],
            "finding_changes": changes, "links": links}


def document_json(data: SiteData, doc: ArchivedDocument) -> dict[str, Any]:
    key, latest = doc.key, doc.latest
    declaration = data.content.declaration(key)
    page = version_path(key, latest.id)
    return {**_names(data, key),
            "declared_urls": [p.url for p in declaration.pages] if declaration else [],
            "version_count": len(doc.versions),
            "versions": [_version_summary(data, doc, i) for i in range(len(doc.versions))],
            "latest": {"id": latest.id, "captured_at": latest.captured_at,
                       "language": data.language(latest), "analysed": data.analysed(latest),
                       "severity_counts": data.counts_of(latest),
                       "findings": [_finding_json(data, f, page) for f in data.findings_of(latest)]},
            "checks": _checks_json(data, key, data.checks.get(key, ())), "signing": data.signing_json(),
            "links": {"self": data.url(document_api_path(key)), "page": data.url(document_path(key)),
                      "history": data.url(history_path(key)), "service": data.url(service_path(key.service)),
                      "feed": data.url(document_feed_path(key))}}


def index_json(data: SiteData) -> dict[str, Any]:
    settings = data.content.settings
    documents = []
    for doc in sorted(data.archive.documents, key=lambda d: d.key):
        documents.append({
            **_names(data, doc.key), "latest_version": doc.latest.id,
            "latest_captured_at": doc.latest.captured_at, "version_count": len(doc.versions),
            "language": data.language(doc.latest), "analysed": data.analysed(doc.latest),
            "severity_counts": data.counts_of(doc.latest),
            "links": {"api": data.url(document_api_path(doc.key)),
                      "page": data.url(document_path(doc.key)), "history": data.url(history_path(doc.key)),
                      "feed": data.url(document_feed_path(doc.key))}})
    services = [{"slug": slug, "name": data.service_name(slug),
                 "documents": [str(d.key) for d in docs],
                 "links": {"page": data.url(service_path(slug)), "feed": data.url(service_feed_path(slug))}}
                for slug, docs in data.services()]
    return {"api_version": API_VERSION, "generator": GENERATOR,
            "site": {"title": settings.title, "description": settings.description,
                     "base_url": data.base_url, "language": settings.language,
                     "attribution": settings.attribution},
            "counts": {"services": len(services), "documents": len(documents),
                       "versions": data.archive.version_count, "rules": len(data.ruleset.rules),
                       "categories": len(data.ruleset.categories)},
            "services": services, "documents": documents, "signing": data.signing_json(),
            "links": {"self": data.url("api/index.json"), "rules": data.url("api/rules.json"),
                      "categories": data.url("api/categories.json"), "feed": data.url(ALL_FEED_PATH),
                      "sitemap": data.url("sitemap.xml"), "public_key": data.url(PUBLIC_KEY_FILE)}}


def _latest_findings(data: SiteData) -> list[tuple[ArchivedDocument, Finding]]:
    return [(doc, f) for doc in sorted(data.archive.documents, key=lambda d: d.key)
            for f in data.findings_of(doc.latest)]


def rules_json(data: SiteData) -> dict[str, Any]:
    where: dict[str, set[DocKey]] = {}
    for doc, f in _latest_findings(data):
        where.setdefault(f.rule_id, set()).add(doc.key)
    rules = [{"id": r.id, "title": r.title, "category": r.category, "severity": r.severity,
              "explanation": r.explanation, "applies_to": list(r.applies_to),
              "milder": {"severity": r.milder.severity, "explanation": r.milder.explanation}
              if r.milder else None,
              "statutes": [{"name": s.name, "article": s.article, "url": s.url} for s in r.statutes],
              "documents": [str(k) for k in sorted(where.get(r.id, ()))],
              "links": {"page": data.url(rule_path(r.id)), "category": data.url(category_path(r.category))}}
             for r in sorted(data.ruleset.rules, key=lambda r: r.id)]
    return {"generator": GENERATOR, "count": len(rules), "rules": rules}


def categories_json(data: SiteData) -> dict[str, Any]:
    per_doc: dict[str, dict[DocKey, list[Finding]]] = {}
    latest = {doc.key: doc.latest.id for doc in data.archive.documents}
    for doc, f in _latest_findings(data):
        per_doc.setdefault(f.category, {}).setdefault(doc.key, []).append(f)
    categories = []
    for c in data.ruleset.categories:
        found = per_doc.get(c.slug, {})
        categories.append({
            "slug": c.slug, "name": c.name, "description": c.description,
            "rules": sorted(r.id for r in data.ruleset.rules if r.category == c.slug),
            "documents": [{"key": str(key), "title": data.title(key),
                           "version": latest[key],
                           "severity_counts": severity_counts(fs),
                           "rules": sorted({f.rule_id for f in fs})} for key, fs in sorted(found.items())],
            "links": {"page": data.url(category_path(c.slug)), "feed": data.url(category_feed_path(c.slug))}})
    return {"generator": GENERATOR, "count": len(categories), "categories": categories}


def api_files(data: SiteData) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Every JSON file of the API: {path: (dependency group (buildkeys.py), the bytes when needed)}."""
    out: dict[str, tuple[str, Callable[[], bytes]]] = {
        "api/index.json": (SITE, lambda: api_json(index_json(data))),
        "api/rules.json": (SITE, lambda: api_json(rules_json(data))),
        "api/categories.json": (SITE, lambda: api_json(categories_json(data)))}
    for doc in data.archive.documents:
        group = doc_group(doc.key)
        out[document_api_path(doc.key)] = (
            group, partial(lambda doc: api_json(document_json(data, doc)), doc))
        for i, v in enumerate(doc.versions):
            out[version_api_path(doc.key, v.id)] = (
                group, partial(lambda doc, i: api_json(version_json(data, doc, i)), doc, i))
    return dict(sorted(out.items()))


def build_api(data: SiteData) -> dict[str, bytes]:
    """Every JSON file of the API: {path relative to the site root: bytes}."""
    return {path: make() for path, (_, make) in api_files(data).items()}
