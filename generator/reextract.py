"""Re-extract stored snapshots under the current declarations: a technical change, not the service's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import minisign

from . import GENERATOR
from .archive import ArchiveWriter, NewVersion, sha256_hex
from .capture import iso, stored_content_types, stored_final_urls, version_id_at
from .charset import decode
from .extract import ExtractionError, denoised_text, extract_page
from .model import ArchivedDocument, Declaration, Version
from .signing import SIGNATURE_SUFFIX, verify_signature


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
    if len(latest.snapshots) == len(urls) and all(  # (their files are there: reextract_document checked)
            page.url in (None, url) for page, url in zip(latest.snapshots, urls, strict=True)):
        return latest
    return None


def _tampered(source: Version, raw: list[bytes], writer: ArchiveWriter) -> str | None:
    """Why a stored page may not be re-extracted: its bytes are not those recorded and signed (a
    new version signed from them would vouch for whatever was put there)."""
    for stored, data in zip(source.snapshots, raw, strict=True):
        path = source.directory / stored.file
        problem = None
        if sha256_hex(data) != stored.sha256:
            problem = "its SHA-256 is not the one recorded in the version's metadata"
        else:
            try:
                verify_signature(writer.signer.public_key(),
                                 data, path.with_name(path.name + SIGNATURE_SUFFIX).read_bytes())
            except (OSError, minisign.Error, ValueError, IndexError) as err:
                problem = f"its signature does not verify ({err})"
        if problem:
            return (f"{path}: {problem}; nothing re-extracted (fix: run `clausewatch verify`, and restore "
                    "the file from the archive's git history)")
    return None


def extract_stored(doc: ArchivedDocument, decl: Declaration, writer: ArchiveWriter) -> str | ReextractResult:
    """The text of the latest version's stored pages extracted under today's declaration and
    extractor, or why there is none (a result that is not "new-technical-version")."""
    missing = [doc.latest.directory / p.file for p in doc.latest.snapshots
               if not (doc.latest.directory / p.file).is_file()]
    if missing:  # the metadata names it: the archive is damaged, not without a snapshot
        return ReextractResult(str(doc.key), "extraction-failed",
                               f"{missing[0]}: the latest version's stored page is missing; nothing "
                               "re-extracted (fix: run `clausewatch verify`, and restore the file from the "
                               "archive's git history)")
    source = _source_snapshot(doc, decl)
    if source is None:
        return ReextractResult(str(doc.key), "no-snapshot",
                               "the latest version has no stored snapshot of the declared pages")
    served_as, ended_at = stored_content_types(doc), stored_final_urls(doc)
    raw = [(source.directory / stored.file).read_bytes() for stored in source.snapshots]
    if problem := _tampered(source, raw, writer):
        return ReextractResult(str(doc.key), "extraction-failed", problem)
    try:
        # Links resolve against where the page ended up after redirects, as when it was captured.
        parts = [extract_page(decode(page_bytes, served_as.get(stored.url or page.url)).text, page,
                              ended_at.get(stored.url or page.url) or stored.url or page.url,
                              doc_type=decl.key.doc_type).markdown
                 for page_bytes, stored, page in zip(raw, source.snapshots, decl.pages, strict=True)]
        return denoised_text(parts, decl.noise)
    except ExtractionError as err:
        return ReextractResult(str(doc.key), "extraction-failed", str(err))


def reextract_document(doc: ArchivedDocument, decl: Declaration, writer: ArchiveWriter,
                       clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> ReextractResult:
    text = extract_stored(doc, decl, writer)
    if isinstance(text, ReextractResult):
        return text
    source = latest = doc.latest  # (the one _source_snapshot gives: extract_stored found it)
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
