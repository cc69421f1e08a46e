"""The trackers on each document's latest capture, found in its stored raw pages at build time.

Trackers are derived data, like findings: the archive keeps the signed raw pages and the build
reads them with the vendored tracker database, so a newer database updates every page and
imported captures (whose exports list no trackers) get theirs too. Results are cached by the
pages' SHA-256 and URLs (the database is part of the code the cache is keyed by).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .buildcache import BuildCache, digest
from .charset import decode
from .model import Archive, DocKey, Version
from .trackers import FAILED, NO_RAW_PAGE, PageTrackers, Tracker, find_trackers, load_trackerdb


def _page_urls(version: Version) -> list[str]:
    """Each raw page's address after redirects when the capture recorded it, else as requested:
    it decides which hosts are the site's own."""
    recorded = (version.source or {}).get("pages")
    urls = []
    for i, page in enumerate(version.snapshots):
        final = recorded[i].get("final_url") if isinstance(recorded, list) and i < len(recorded) \
            and isinstance(recorded[i], dict) else None
        urls.append(str(final or page.url or version.final_url or version.url or ""))
    return urls


def merge_trackers(pages: list[list[Tracker]]) -> tuple[Tracker, ...]:
    """One entry per host over all the pages of a capture (the first page naming it wins), sorted."""
    found: dict[str, Tracker] = {}
    for trackers in pages:
        for tracker in trackers:
            found.setdefault(tracker.domain, tracker)
    return tuple(sorted(found.values()))


def latest_trackers(archive: Archive, verified_ok: Callable[[Path], bool],
                    cache: BuildCache | None) -> dict[DocKey, PageTrackers]:
    """For every document, the trackers of its latest version's raw pages."""
    result: dict[DocKey, PageTrackers] = {}
    for doc in archive.documents:
        version = doc.latest
        paths = [doc.directory / page.file for page in version.snapshots]
        if not paths:
            result[doc.key] = NO_RAW_PAGE
            continue
        if not all(verified_ok(p) for p in paths):
            result[doc.key] = FAILED
            continue
        urls = _page_urls(version)
        key = digest(*(f"{page.sha256} {url}" for page, url in zip(version.snapshots, urls, strict=True)))
        rows = cache.get("trackers", key) if cache else None
        if not isinstance(rows, list):
            db = load_trackerdb()
            found = merge_trackers([find_trackers(decode(p.read_bytes()).text, url, db)
                                    for p, url in zip(paths, urls, strict=True)])
            rows = [t.to_dict() for t in found]
            if cache:
                cache.put("trackers", key, rows)
        result[doc.key] = PageTrackers(tuple(Tracker.from_dict(r) for r in rows))
    return result
