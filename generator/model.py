"""Domain records shared by every stage. Frozen: stages pass them along, never mutate them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .lazyregex import LazyRegex

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
VERSION_ID_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z\Z")

VersionKind = Literal["first", "change", "technical"]


@dataclass(frozen=True, order=True)
class DocKey:
    """`<service>/<doc-type>`: the address of one tracked document."""

    service: str
    doc_type: str

    def __str__(self) -> str:
        return f"{self.service}/{self.doc_type}"

    @classmethod
    def parse(cls, text: str) -> DocKey:
        service, sep, doc_type = text.partition("/")
        if not sep or not SLUG_RE.match(service) or not SLUG_RE.match(doc_type):
            raise ValueError(f"not a document key <service>/<doc-type>: {text!r}")
        return cls(service, doc_type)


@dataclass(frozen=True)
class RangeSelector:
    """Keep what lies between two elements (Open Terms Archive's range selectors)."""

    start: str
    start_inclusive: bool
    end: str
    end_inclusive: bool


Selector = str | RangeSelector


@dataclass(frozen=True)
class SourcePage:
    """One fetched page of a document; most documents have exactly one."""

    url: str
    select: tuple[Selector, ...] = ()
    remove: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Declaration:
    """What to capture for one document, as declared in content/services/<service>.yaml."""

    key: DocKey
    pages: tuple[SourcePage, ...]
    noise: tuple[re.Pattern[str], ...] = ()  # matches are deleted from the text before comparing


@dataclass(frozen=True)
class Service:
    slug: str
    name: str
    operator: str | None
    documents: tuple[Declaration, ...]


@dataclass(frozen=True)
class DocumentType:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class SiteSettings:
    title: str
    base_url: str
    description: str
    language: str
    attribution: str
    repository: str | None = None  # the project's public git repository: archive, rules, issues


@dataclass(frozen=True)
class ContentPage:
    """A page of the site written in content/pages/<slug>.md (pages.py renders it)."""

    slug: str
    title: str  # may hold {{ placeholders }}
    body: str  # Markdown


@dataclass(frozen=True)
class Content:
    """Everything humans edit under content/, loaded and checked."""

    settings: SiteSettings
    document_types: tuple[DocumentType, ...]
    services: tuple[Service, ...]
    pages: tuple[ContentPage, ...] = ()

    def declaration(self, key: DocKey) -> Declaration | None:
        for service in self.services:
            for decl in service.documents:
                if decl.key == key:
                    return decl
        return None

    def service(self, slug: str) -> Service | None:
        return next((s for s in self.services if s.slug == slug), None)

    def document_type(self, slug: str) -> DocumentType | None:
        return next((t for t in self.document_types if t.slug == slug), None)


@dataclass(frozen=True)
class SnapshotPage:
    """One raw page stored under snapshots/ (a capture of a multi-page document has several)."""

    file: str  # relative to the document folder, e.g. snapshots/<id>.html
    url: str | None
    fetched_at: str | None
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Version:
    """One immutable version of a document: text, metadata and their signatures on disk."""

    key: DocKey
    id: str
    captured_at: str
    kind: VersionKind
    sha256: str
    bytes: int
    url: str | None
    final_url: str | None
    http_status: int | None
    snapshot_id: str | None
    snapshots: tuple[SnapshotPage, ...]
    source: dict[str, object] | None
    directory: Path = field(compare=False)  # the document folder in the archive
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)  # the whole JSON

    @property
    def technical(self) -> bool:
        return self.kind == "technical"

    @functools.cached_property  # asked for often by a build, and paths are slow to make
    def text_path(self) -> Path:
        return self.directory / "versions" / f"{self.id}.md"

    @functools.cached_property
    def metadata_path(self) -> Path:
        return self.directory / "versions" / f"{self.id}.json"

    def read_text(self) -> str:
        return read_version_text(self.text_path)

    @property
    def tracked_urls(self) -> tuple[str, ...]:
        """The pages this version was made from, as declared when it was captured."""
        declared = self.metadata.get("urls")
        if isinstance(declared, list) and all(isinstance(u, str) for u in declared):
            return tuple(declared)
        return (self.url,) if self.url else ()

    def fetched_pages(self) -> dict[str, dict[str, Any]]:
        """What the capture of this version recorded of each page it fetched (final URL, headers,
        status), by requested URL; empty for a version not captured live (imported, re-extracted)."""
        pages = (self.source or {}).get("pages")
        listed = pages if isinstance(pages, list) else []
        return {page["url"]: page for page in listed
                if isinstance(page, dict) and isinstance(page.get("url"), str)}


def pages_changed(before: Version, after: Version) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(added, dropped): the pages `after` was made from that `before` was not, and the reverse. A
    version made from other pages differs for that reason too, not only for the service's edits."""
    return (tuple(u for u in after.tracked_urls if u not in before.tracked_urls),
            tuple(u for u in before.tracked_urls if u not in after.tracked_urls))


def read_version_text(path: Path) -> str:
    """A version's text. A file that is missing, unreadable (a folder in its place) or not UTF-8
    reads as what is left of it: the build shows that version as failing verification (which
    reports the file) instead of stopping."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class ArchivedDocument:
    key: DocKey
    directory: Path
    versions: tuple[Version, ...]  # oldest first

    @property
    def latest(self) -> Version:
        return self.versions[-1]


@dataclass(frozen=True)
class Archive:
    root: Path
    documents: tuple[ArchivedDocument, ...]

    @property
    def version_count(self) -> int:
        return sum(len(d.versions) for d in self.documents)

    @property
    def snapshot_count(self) -> int:
        return sum(1 for d in self.documents for v in d.versions if v.snapshot_id)


def display_path(path: Path) -> str:
    """A path as a contributor types it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside it; or a symlink loop, which its reader reports
        return str(path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, phrased so a contributor can fix it."""

    file: str
    key: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}: " if self.key else f"{self.file}: "
        return where + self.message + (f" (fix: {self.fix})" if self.fix else "")


class ProblemsError(Exception):
    """Raised with every problem found, so that all of them are reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")


@dataclass(frozen=True)
class Statute:
    name: str
    article: str
    url: str


@dataclass(frozen=True)
class Pattern:
    """Matches when every regex in `all` is found (within `within` words of each other, if set:
    counted between the nearest words of the two matches, so a long match does not push others away)."""

    all: tuple[LazyRegex, ...]
    within: int | None = None


@dataclass(frozen=True)
class Milder:
    """A lower grade for the rule's clauses that say what makes them less severe (a stated reason, a
    notice period; a notice announcing a section rather than the section itself), unless they
    also say what makes them severe ("for any reason")."""

    severity: Severity
    explanation: str  # for readers: when the lower grade applies, and why
    when: tuple[LazyRegex, ...]  # any of them
    unless: tuple[LazyRegex, ...]  # none of them
    examples_milder: tuple[str, ...]  # match the rule and are graded `severity`
    examples_full: tuple[str, ...]  # match the rule and keep its severity

    def applies(self, text: str) -> bool:
        return any(r.search(text) for r in self.when) and not any(r.search(text) for r in self.unless)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    category: str
    severity: Severity
    explanation: str
    statutes: tuple[Statute, ...]
    applies_to: tuple[str, ...]  # document-type slugs; empty means every type
    patterns: tuple[Pattern, ...]
    unless: tuple[LazyRegex, ...]
    examples_match: tuple[str, ...]
    examples_no_match: tuple[str, ...]
    file: str
    # A list item is also read after the sentence that introduces its list ("We are not liable
    # for:" then "(b) any loss of data"), for rules whose lists are enumerations of the clause.
    lead_in: bool = False
    milder: Milder | None = None

    def applies(self, doc_type: str) -> bool:
        return not self.applies_to or doc_type in self.applies_to

    def severity_of(self, text: str) -> Severity:
        """The grade of a clause this rule matched: `text` as the reader sees the provision (prepared
        as analyze.prepare does, with its lead-in and the items of the list it introduces)."""
        return self.milder.severity if self.milder and self.milder.applies(text) else self.severity


@dataclass(frozen=True)
class ChangeStats:
    """How much a version changed against the previous one, in words."""

    words_added: int
    words_removed: int
    percent_changed: str  # e.g. "12.3%", "<0.1%"
    words_moved: int = 0  # in paragraphs moved elsewhere unchanged (not in added or removed)
    # (added + removed) / (words before + words after), which percent_changed labels for readers
    fraction_changed: float = 0.0

    @property
    def wording_unchanged(self) -> bool:
        """No word added, removed or moved: only layout or markup changed."""
        return self.words_added == self.words_removed == self.words_moved == 0


class Finding(NamedTuple):
    """A rule's match in one clause. A named tuple, not a frozen dataclass: a build reads back tens
    of thousands of them from its cache, and a tuple is made four times faster."""

    rule_id: str
    severity: Severity
    category: str
    clause_id: str
    quote: str
    start: int  # offsets of the clause in the version's Markdown
    end: int
    # For a list item flagged only as read after the sentence that introduces its list ("We may
    # terminate your account if:"), that sentence: the quote alone would not say why.
    lead_in: str = ""
    # For a finding on such a sentence, the items of its list, in order: the provision is the
    # sentence and its list ("... if:" and the reasons), flagged once (analyze.py).
    items: tuple[str, ...] = ()

    @property
    def key(self) -> FindingKey:
        """What identifies a finding across versions. With the severity, a clause re-graded (its
        rule's milder grade: the list it introduces changed) is one flag removed and one added."""
        return self.rule_id, self.clause_id, self.severity


FindingKey = tuple[str, str, str]  # (rule id, clause id, severity): Finding.key
