"""Keep the search index current: re-index only the shards whose pages changed, in the
background while the build writes feeds and data (Pagefind runs as its own process).

Besides the pages marked for search, Pagefind is shown a record for each older version holding
the wording the next version no longer has (earlier.py). A record is identified, in its shard's
digest, by what makes it (the code, both texts' SHA-256s, what it says of the document), so an
unchanged shard is known without reading any of its records' clauses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from typing import NamedTuple

from . import search
from .buildcache import digest
from .earlier import RecordContext, Superseded, record_html
from .model import DocKey, Version

try:
    PAGEFIND = f"pagefind {metadata.version('pagefind')}"
except metadata.PackageNotFoundError:  # run from a source tree without the package metadata
    PAGEFIND = "pagefind"
from .render import SiteWriter
from .sitemodel import DocumentView, SiteView, VersionView

# An older version's superseded clauses, by version id (analysis.EarlierWordings).
Earlier = Callable[[DocKey, Sequence[Version]], Mapping[str, Sequence[Superseded]]]


class _Record(NamedTuple):
    page: str  # the older version's page, where its result links
    doc: DocumentView
    version: VersionView
    identity: str  # a digest of what makes the record
    context: RecordContext


def _records(site: SiteView, code: str) -> list[_Record]:
    """The record each older version may have: when it and the next one verified (their clauses
    are known only then), and the next one is not a technical version (its differences are how the
    same page was extracted again: nothing the service stopped saying)."""
    found = []
    language = site.content.settings.language
    for doc in site.documents:
        for old, new in zip(doc.versions, doc.versions[1:], strict=False):
            # (a failed capture's clauses are a stub's or another page's: no wording of the policy)
            if old.verified and new.verified and not new.version.technical and not (
                    old.failed_capture or new.failed_capture):
                context = RecordContext(language, doc.title, doc.service_name, doc.type_name,
                                        old.fetched or old.captured, new.captured, old.language)
                # the findings on its clauses give its category and severity filters, by the names
                # readers see (a category renamed in content/ must re-index it)
                flagged = sorted(f"{f.clause_id} {site.category_name(f.category)} {f.severity}"
                                 for f in old.findings)
                identity = digest(code, old.version.sha256, new.version.sha256, *context, *flagged)
                found.append(_Record(f"{old.path}index.html", doc, old, identity, context))
    return found


def _made(site: SiteView, records: Sequence[_Record], earlier: Earlier) -> dict[str, bytes]:
    """The records' bytes, page path → HTML; none for a version whose wording the next one all kept."""
    made: dict[str, bytes] = {}
    rows_of: dict[DocKey, Mapping[str, Sequence[Superseded]]] = {}
    for record in records:
        doc = record.doc
        if doc.key not in rows_of:
            rows_of[doc.key] = earlier(doc.key, [v.version for v in doc.versions])
        rows = rows_of[doc.key].get(record.version.id)
        if rows:
            gone = {row.clause_id for row in rows}
            flagged = [(site.category_name(f.category), f.severity)
                       for f in record.version.findings if f.clause_id in gone]
            made[record.page] = record_html(record.context, rows, flagged)
    return made


class SearchIndexing:
    """Started once every page is written; `finish()` writes the new shards into the site.
    `earlier`: where older versions' superseded wordings come from (None: only marked pages);
    `code`: the code digest, part of each record's identity."""

    def __init__(self, site: SiteView, writer: SiteWriter, workers: int, progress: Callable[[str], None],
                 earlier: Earlier | None = None, code: str = "") -> None:
        self.writer = writer
        self.indexed = dict(writer.searchable)  # the pages as Pagefind is shown them
        shards = site.search_shards
        folders = search.shard_folders([d.path for d in site.documents], shards)
        main = min(folders) if folders else 0
        pages: dict[int, list[tuple[str, str]]] = {shard: [] for shard in folders}
        for page, sha in sorted(writer.searchable.items()):
            shard = search.shard_of(page, shards)
            pages[shard if shard in folders else main].append((page, sha))
        records: dict[int, list[_Record]] = {shard: [] for shard in folders}
        for record in _records(site, code) if earlier else ():
            if record.page not in writer.searchable:  # a site's own theme may mark older versions
                shard = search.shard_of(record.page, shards)
                records[shard if shard in folders else main].append(record)
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="pagefind")
        self.running: list[tuple[str, str, Future[list[tuple[str, bytes]]]]] = []
        unchanged = []
        for shard, folder in folders.items():
            # Pagefind's output differs from run to run: an unchanged shard keeps its files. What
            # makes a shard: Pagefind's version, whether it carries the UI, its pages' bytes and
            # what makes its records.
            listing = (f"{PAGEFIND} main={shard == main}\n"
                       + "".join(f"{p} {d}\n" for p, d in pages[shard])
                       + "".join(f"earlier {r.page} {r.identity}\n" for r in records[shard]))
            digest_hex = hashlib.sha256(listing.encode()).hexdigest()
            marker = writer.out / folder / search.MARKER
            if marker.is_file() and marker.read_text() == digest_hex:
                unchanged.append(folder)
                continue
            made = _made(site, records[shard], earlier) if earlier else {}
            progress(f"indexing {len(pages[shard])} pages and {len(made)} earlier wordings for search "
                     f"({folder}/)")
            job = self.pool.submit(
                lambda paths, made, main: list(search.index_pages(writer.out, paths, main, made)),
                [p for p, _ in pages[shard]], made, shard == main)
            self.running.append((folder, digest_hex, job))
        for folder in unchanged:  # after Pagefind started: keeping needs the scan of the output folder
            writer.keep(folder, but=search.SHARD_PREFIX if folder == search.BUNDLE else None)

    def finish(self) -> None:
        if self.writer.searchable != self.indexed:  # render_site's order promised otherwise
            late = sorted(self.writer.searchable.items() - self.indexed.items())
            raise RuntimeError(f"pages for the search index written after it started: {late[:5]}")
        try:
            for folder, digest_hex, job in self.running:
                for path, data in job.result():
                    self.writer.write(f"{folder}/{path}", data)
                self.writer.write(f"{folder}/{search.MARKER}", digest_hex.encode())
        finally:
            self.pool.shutdown()
