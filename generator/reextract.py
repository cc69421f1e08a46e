"""Re-extract stored snapshots under the current declarations: a technical change, not the service's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from . import GENERATOR
from .archive import ArchiveWriter, NewVersion
from .capture import iso, stored_content_types, version_id_at
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
    """The latest version, when its stored pages line up with the declared pages. Only the latest:
    an older snapshot would record the text of an older page as today's (a latest version without
    snapshots, e.g. imported, has nothing to re-extract)."""
    latest = doc.latest
    urls = [page.url for page in decl.pages]
    if len(latest.snapshots) == len(urls) and all(
            (latest.directory / page.file).is_file() and page.url in (None, url)
            for page, url in zip(latest.snapshots, urls, strict=True)):
        return latest
    return None


def reextract_document(doc: ArchivedDocument, decl: Declaration, writer: ArchiveWriter,
                       clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ReextractResult:
    source = _source_snapshot(doc, decl)
    if source is None:
        return ReextractResult(str(doc.key), "no-snapshot",
                               "the latest version has no stored snapshot of the declared pages")
    served_as = stored_content_types(doc)
    try:
        parts = [extract_page(decode((source.directory / stored.file).read_bytes(),
                                     served_as.get(stored.url or page.url)).text, page,
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
