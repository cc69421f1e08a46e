"""Re-extract stored snapshots under the current declarations: a technical change, not the service's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from . import GENERATOR
from .archive import ArchiveWriter, NewVersion
from .capture import iso, version_id_at
from .charset import decode
from .extract import ExtractionError, denoised_text, extract_page
from .model import ArchivedDocument, Declaration, Version


@dataclass(frozen=True)
class ReextractResult:
    document: str
    outcome: str  # "new-technical-version", "unchanged", "no-snapshot" or "extraction-failed"
    reason: str
    version_id: str | None = None


def _source_snapshot(doc: ArchivedDocument, decl: Declaration) -> Version | None:
    """The newest version whose stored pages line up with the declared pages."""
    urls = [page.url for page in decl.pages]
    for version in reversed(doc.versions):
        if len(version.snapshots) == len(urls) and all(
                (version.directory / page.file).is_file() for page in version.snapshots):
            return version
    return None


def reextract_document(doc: ArchivedDocument, decl: Declaration, writer: ArchiveWriter,
                       clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ReextractResult:
    source = _source_snapshot(doc, decl)
    if source is None:
        return ReextractResult(str(doc.key), "no-snapshot", "no stored snapshot matches the declared pages")
    try:
        parts = [extract_page(decode((source.directory / stored.file).read_bytes()).text, page,
                              stored.url or page.url, doc_type=decl.key.doc_type).markdown
                 for stored, page in zip(source.snapshots, decl.pages, strict=True)]
        text = denoised_text(parts, decl.noise)
    except ExtractionError as err:
        return ReextractResult(str(doc.key), "extraction-failed", str(err))
    latest = doc.latest
    if latest.read_text() == text:
        return ReextractResult(str(doc.key), "unchanged", f"same text as {latest.id}", latest.id)
    now = clock()
    version_id = version_id_at(now)
    if version_id <= latest.id:
        return ReextractResult(str(doc.key), "extraction-failed",
                               f"clock {version_id} is not after the latest version {latest.id}")
    metadata = {
        "captured_at": iso(now), "kind": "technical", "technical": True,
        "url": source.url, "urls": [page.url for page in decl.pages],
        "final_url": source.final_url, "http_status": source.http_status,
        "snapshots": [{"file": p.file, "sha256": p.sha256, "bytes": p.bytes, "url": p.url,
                       "fetched_at": p.fetched_at} for p in source.snapshots],
        "source": {"name": "clausewatch reextract", "reextracted_from": source.id},
        "generator": GENERATOR,
    }
    writer.record(NewVersion(doc.key, version_id, text, source.snapshot_id, (), metadata))
    return ReextractResult(str(doc.key), "new-technical-version",
                           f"re-extracted snapshot {source.snapshot_id}", version_id)
