"""Content + archive → the view models templates see. Pure: no disk, no network.

Paths here are relative to the site root and end in '/' for pages; templates prefix them
with the page's own relative root, so the site works under any base path and from disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import Archive, ArchivedDocument, Content, DocKey, Version


@dataclass(frozen=True)
class VersionView:
    version: Version
    document_path: str
    number: int  # 1-based position in the document's history
    previous_id: str | None
    next_id: str | None

    @property
    def id(self) -> str:
        return self.version.id

    @property
    def path(self) -> str:
        return f"{self.document_path}{self.id}/"

    def raw_path(self, suffix: str) -> str:
        """Raw files sit next to the version page: <doc>/<version-id>.md, .md.minisig, .json."""
        return f"{self.document_path}{self.id}{suffix}"

    @property
    def captured(self) -> str:
        return format_time(self.version.captured_at)

    @property
    def date(self) -> str:
        return self.version.captured_at[:10]

    @property
    def source_ref(self) -> str | None:
        ref = (self.version.source or {}).get("ref")
        return str(ref) if ref else None

    @property
    def attribution(self) -> str | None:
        text = (self.version.source or {}).get("attribution")
        return str(text) if text else None

    @property
    def kind_label(self) -> str:
        return {"first": "first capture", "change": "change",
                "technical": "technical re-extraction"}[self.version.kind]


@dataclass(frozen=True)
class DocumentView:
    key: DocKey
    service_name: str
    type_name: str
    declared_urls: tuple[str, ...]
    versions: tuple[VersionView, ...]  # oldest first

    @property
    def path(self) -> str:
        return f"{self.key.service}/{self.key.doc_type}/"

    @property
    def history_path(self) -> str:
        return f"{self.path}history/"

    @property
    def latest(self) -> VersionView:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return f"{self.service_name} {self.type_name}"

    def version(self, version_id: str | None) -> VersionView | None:
        return next((v for v in self.versions if v.id == version_id), None)


@dataclass(frozen=True)
class ServiceView:
    slug: str
    name: str
    operator: str | None
    documents: tuple[DocumentView, ...]

    @property
    def path(self) -> str:
        return f"{self.slug}/"


@dataclass(frozen=True)
class RecentChange:
    document: DocumentView
    version: VersionView


@dataclass(frozen=True)
class SiteView:
    content: Content
    services: tuple[ServiceView, ...]
    recent: tuple[RecentChange, ...]

    @property
    def documents(self) -> tuple[DocumentView, ...]:
        return tuple(d for s in self.services for d in s.documents)

    @property
    def version_count(self) -> int:
        return sum(len(d.versions) for d in self.documents)


def format_time(iso: str) -> str:
    """'2025-08-01T00:32:05Z' → '2025-08-01 00:32:05 UTC' (archive times are always UTC)."""
    try:
        moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _document_view(content: Content, doc: ArchivedDocument) -> DocumentView:
    service = content.service(doc.key.service)
    doc_type = content.document_type(doc.key.doc_type)
    declaration = content.declaration(doc.key)
    path = f"{doc.key.service}/{doc.key.doc_type}/"
    ids = [v.id for v in doc.versions]
    versions = tuple(
        VersionView(v, path, i + 1, ids[i - 1] if i else None, ids[i + 1] if i + 1 < len(ids) else None)
        for i, v in enumerate(doc.versions)
    )
    return DocumentView(
        key=doc.key,
        # An archived document whose declaration was removed keeps its history on the site.
        service_name=service.name if service else doc.key.service,
        type_name=doc_type.name if doc_type else doc.key.doc_type.replace("-", " ").title(),
        declared_urls=tuple(p.url for p in declaration.pages) if declaration else (),
        versions=versions,
    )


def build_site_view(content: Content, archive: Archive, recent_count: int = 20) -> SiteView:
    by_service: dict[str, list[DocumentView]] = {}
    for doc in archive.documents:
        by_service.setdefault(doc.key.service, []).append(_document_view(content, doc))
    services = []
    for slug, docs in sorted(by_service.items()):
        service = content.service(slug)
        services.append(ServiceView(slug, service.name if service else slug,
                                    service.operator if service else None, tuple(docs)))
    changes = [RecentChange(d, v) for s in services for d in s.documents for v in d.versions]
    changes.sort(key=lambda c: (c.version.version.captured_at, str(c.document.key)), reverse=True)
    return SiteView(content, tuple(services), tuple(changes[:recent_count]))
