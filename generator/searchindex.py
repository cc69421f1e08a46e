"""Keep the search index current: re-index only the shards whose pages changed, in the
background while the build writes feeds and data (Pagefind runs as its own process)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata

from . import search

try:
    PAGEFIND = f"pagefind {metadata.version('pagefind')}"
except metadata.PackageNotFoundError:  # run from a source tree without the package metadata
    PAGEFIND = "pagefind"
from .render import SiteWriter
from .sitemodel import SiteView


class SearchIndexing:
    """Started once every page is written; `finish()` writes the new shards into the site."""

    def __init__(self, site: SiteView, writer: SiteWriter, workers: int,
                 progress: Callable[[str], None]) -> None:
        self.writer = writer
        self.indexed = dict(writer.searchable)  # the pages as Pagefind is shown them
        shards = site.search_shards
        folders = search.shard_folders([d.path for d in site.documents], shards)
        main = min(folders) if folders else 0
        pages: dict[int, list[tuple[str, str]]] = {shard: [] for shard in folders}
        for page, sha in sorted(writer.searchable.items()):
            shard = search.shard_of(page, shards)
            pages[shard if shard in folders else main].append((page, sha))
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="pagefind")
        self.running: list[tuple[str, str, Future[list[tuple[str, bytes]]]]] = []
        unchanged = []
        for shard, folder in folders.items():
            # Pagefind's output differs from run to run: an unchanged shard keeps its files. What
            # makes a shard: Pagefind's version, whether it carries the UI, and its pages' bytes.
            listing = f"{PAGEFIND} main={shard == main}\n" + "".join(f"{p} {d}\n" for p, d in pages[shard])
            digest_hex = hashlib.sha256(listing.encode()).hexdigest()
            marker = writer.out / folder / search.MARKER
            if marker.is_file() and marker.read_text() == digest_hex:
                unchanged.append(folder)
                continue
            progress(f"indexing {len(pages[shard])} pages for search ({folder}/)")
            job = self.pool.submit(lambda paths, main: list(search.index_pages(writer.out, paths, main)),
                                   [p for p, _ in pages[shard]], shard == main)
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
