"""Keep the search index current: re-index only the bundles whose pages changed (search.py lays
them out), in the background while the build writes feeds and data (Pagefind runs as its own
process).

Besides the pages marked for search, Pagefind is shown a record for each older version holding
the wording the next version no longer has (earlier.py), in bundles of their own. A record is
identified, in its bundle's digest, by what makes it (the code, both texts' SHA-256s, what it says
of the document), so an unchanged bundle is known without reading any of its records' clauses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from typing import NamedTuple

from . import search
from .earlier import RecordContext, Superseded, record_html
from .model import DocKey, Version

try:
    PAGEFIND = f"pagefind {metadata.version('pagefind')}"
except metadata.PackageNotFoundError:  # run from a source tree without the package metadata
    PAGEFIND = "pagefind"
from .render import SiteWriter
from .sitemodel import EarlierRecord, SiteView

# An older version's superseded clauses, by version id (analysis.EarlierWordings).
Earlier = Callable[[DocKey, Sequence[Version]], Mapping[str, Sequence[Superseded]]]


class _Record(NamedTuple):
    record: EarlierRecord
    identity: str  # a digest of what makes the record
    context: RecordContext


def _records(site: SiteView, code: str) -> list[_Record]:
    """What makes each record the site holds (SiteView.earlier_records), in its order."""
    found = []
    language = site.content.settings.language
    names = site.category_names
    for record in site.earlier_records:
        doc, old, new = record.doc, record.version, record.next
        context = RecordContext(language, doc.title, doc.service_name, doc.type_name,
                                old.fetched or old.captured, new.captured, old.language)
        # the findings on its clauses give its category and severity filters, by the names readers
        # see (a category renamed in content/ must re-index it)
        flagged = sorted([(f.clause_id, names.get(f.category, f.category), f.severity) for f in old.findings])
        # one repr hashed, not a digest of each part: every build takes this of every record
        made = repr((code, old.version.sha256, new.version.sha256, tuple(context), flagged))
        found.append(_Record(record, hashlib.sha256(made.encode()).hexdigest(), context))
    return found


def _made(site: SiteView, records: Sequence[_Record], earlier: Earlier) -> dict[str, bytes]:
    """The records' bytes, page path → HTML (the site holds a record only of an older version with
    wording the next one lacks: SiteView.earlier_records)."""
    made: dict[str, bytes] = {}
    rows_of: dict[DocKey, Mapping[str, Sequence[Superseded]]] = {}
    for held in records:
        doc, version = held.record.doc, held.record.version
        if doc.key not in rows_of:
            rows_of[doc.key] = earlier(doc.key, [v.version for v in doc.versions])
        rows = rows_of[doc.key].get(version.id)
        if not rows:  # the analysis counted some: its cache entry and this one disagree
            raise RuntimeError(f"no superseded wording for the record of {held.record.page}")
        gone = {row.clause_id for row in rows}
        flagged = [(site.category_name(f.category), f.severity)
                   for f in version.findings if f.clause_id in gone]
        made[held.record.page] = record_html(held.context, rows, flagged)
    return made


# (folder, whether it is the main bundle, its pages as (path, SHA-256), its records, the digest of
# what makes it: "" until SearchIndexing._changed takes it)
_Bundle = tuple[str, bool, list[tuple[str, str]], Sequence[_Record], str]


class SearchIndexing:
    """`start()`, once every page Pagefind reads is written, starts it on the bundles that changed:
    the shards of pages first (one of them is the longest step of a build that adds a version),
    then the bundles of records of earlier wording; `finish()` writes the new bundles into the
    site. `earlier`: where older versions' superseded wordings come from; `code`: the code
    digest, part of each record's identity."""

    def __init__(self, site: SiteView, writer: SiteWriter, workers: int, progress: Callable[[str], None],
                 earlier: Earlier, code: str = "") -> None:
        self.site, self.writer, self.progress, self.earlier, self.code = site, writer, progress, earlier, code
        self.workers = workers
        self.indexed: dict[str, str] | None = None  # the pages as Pagefind is shown them
        self.pool: ThreadPoolExecutor | None = None
        self.running: list[tuple[str, str, Future[list[tuple[str, bytes]]]]] = []

    def start(self) -> None:
        writer, site = self.writer, self.site
        self.indexed = dict(writer.searchable)
        self.pool = ThreadPoolExecutor(max(1, self.workers), thread_name_prefix="pagefind")
        shards = site.search_shards
        folders = search.shard_folders([d.path for d in site.documents], shards)
        main = min(folders) if folders else 0
        pages: dict[int, list[tuple[str, str]]] = {shard: [] for shard in folders}
        for page, sha in sorted(writer.searchable.items()):
            shard = search.shard_of(page, shards)
            pages[shard if shard in folders else main].append((page, sha))
        self._start(self._changed([(folder, shard == main, pages[shard], [], "")
                                   for shard, folder in folders.items()]))
        # (a theme that marks older versions' pages for search gets them indexed beside their
        # records: the layout is the site model's, which does not know what a theme marks)
        records = _records(site, self.code)  # taken while Pagefind reads the pages
        self._start(self._changed([(folder, False, [], records[start:end], "")
                                   for start, end, folder in search.record_chunks(len(records))]))

    def _changed(self, bundles: Sequence[_Bundle]) -> list[_Bundle]:
        """The bundles (folder, whether it is the main bundle, its pages, its records, the digest of
        what makes it) that changed; the others are kept."""
        changed, unchanged = [], []
        for folder, is_main, shown, held, _ in bundles:
            # Pagefind's output differs from run to run: an unchanged bundle keeps its files. What
            # makes one: Pagefind's version, whether it carries the UI, its pages' bytes and what
            # makes its records.
            listing = (f"{PAGEFIND} main={is_main}\n"
                       + "".join(f"{p} {d}\n" for p, d in shown)
                       + "".join(f"earlier {r.record.page} {r.identity}\n" for r in held))
            digest_hex = hashlib.sha256(listing.encode()).hexdigest()
            marker = self.writer.out / folder / search.MARKER
            if marker.is_file() and marker.read_text() == digest_hex:
                unchanged.append(folder)
            else:
                changed.append((folder, is_main, shown, held, digest_hex))
        for folder in unchanged:
            self.writer.keep(folder, but=search.SHARD_PREFIX if folder == search.BUNDLE else None)
        return changed

    def _start(self, bundles: Sequence[_Bundle]) -> None:
        writer, pool = self.writer, self.pool
        assert pool is not None
        for folder, is_main, shown, held, digest_hex in bundles:
            made = _made(self.site, held, self.earlier) if held else {}
            self.progress(f"indexing {len(shown)} pages and {len(made)} earlier wordings for search "
                          f"({folder}/)")
            job = pool.submit(
                lambda paths, made, main: list(search.index_pages(writer.out, paths, main, made)),
                [p for p, _ in shown], made, is_main)
            self.running.append((folder, digest_hex, job))

    def finish(self) -> None:
        if self.indexed is None or self.pool is None:
            raise RuntimeError("the search index was finished before it started")
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
