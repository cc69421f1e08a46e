"""sitemap.xml: every page of the URL contract with its last modification. Pure: bytes from `SiteData`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from html import escape

from .api import SiteData
from .model import ArchivedDocument
from .urls import (
    category_path,
    changes_path,
    document_path,
    history_path,
    rule_path,
    service_path,
    version_path,
)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP = "sitemap.xml"
SITEMAP_MAX_URLS = 50_000  # sitemaps.org: one file holds at most 50,000 URLs (and 50 MB: far from it)


@dataclass(frozen=True)
class SitePage:
    path: str  # relative to the site root, '' for home, pages end in '/'
    lastmod: str | None  # W3C datetime (the capture time of the version the page shows, or a later check)


def site_pages(data: SiteData, extra_pages: Sequence[str] = ()) -> list[SitePage]:
    """Every HTML page of the URL contract, plus the `categories/` and `rules/` indexes, in site
    order; `extra_pages` adds pages (without lastmod). Home, search, categories and rules pages
    show the whole archive: their lastmod is its newest capture; the pages of content/pages/ have none."""
    newest = data.newest_capture()

    def touched(doc: ArchivedDocument) -> str:
        """A document's and its history's page change with each check (\"last checked\", the checks
        between versions), not only with a new version."""
        log = data.checks.get(doc.key, ())
        return max(doc.latest.captured_at, log[-1].checked_at) if log else doc.latest.captured_at

    pages = [SitePage("", newest), *(SitePage(f"{p.slug}/", None) for p in data.content.pages),
             SitePage("search/", newest)]
    pages += [SitePage(p, None) for p in extra_pages]
    pages.append(SitePage("categories/", newest))
    pages += [SitePage(category_path(c.slug), newest) for c in data.ruleset.categories]
    pages.append(SitePage("rules/", newest))
    pages += [SitePage(rule_path(r.id), newest) for r in sorted(data.ruleset.rules, key=lambda r: r.id)]
    for slug, docs in data.services():
        pages.append(SitePage(service_path(slug), max(d.latest.captured_at for d in docs)))
        for doc in docs:
            pages.append(SitePage(document_path(doc.key), touched(doc)))
            pages.append(SitePage(history_path(doc.key), touched(doc)))
            for i, v in enumerate(doc.versions):
                pages.append(SitePage(version_path(doc.key, v.id), v.captured_at))
                if i:
                    pages.append(SitePage(changes_path(doc.key, v.id), v.captured_at))
    return pages


def sitemap_files(data: SiteData, extra_pages: Sequence[str] = (),
                  max_urls: int = SITEMAP_MAX_URLS) -> dict[str, Callable[[], bytes]]:
    """sitemap.xml, each file made when called. A site with more pages than one sitemap may list
    gets sitemap-1.xml, sitemap-2.xml, ... of `max_urls` pages each, and sitemap.xml indexes them:
    at the site root, since a sitemap may list only URLs under its own folder."""
    pages = site_pages(data, extra_pages)
    if len(pages) <= max_urls:
        return {SITEMAP: lambda: _urlset(data, pages)}
    starts = range(0, len(pages), max_urls)
    parts = {f"sitemap-{n}.xml": pages[i:i + max_urls] for n, i in enumerate(starts, 1)}
    made = {name: partial(_urlset, data, part) for name, part in parts.items()}
    return {SITEMAP: lambda: _index(data, parts), **made}


def build_sitemap(data: SiteData, extra_pages: Sequence[str] = ()) -> bytes:
    """sitemap.xml: the pages, or the index of the sitemaps that list them (sitemap_files)."""
    return sitemap_files(data, extra_pages)[SITEMAP]()


def _urlset(data: SiteData, pages: Sequence[SitePage]) -> bytes:
    # Written out directly (a few thousand URLs): the same bytes as an ElementTree written with
    # feeds.xml_bytes, at a tenth of its cost. escape(quote=False) escapes text as ElementTree does.
    lines = ["<?xml version='1.0' encoding='utf-8'?>", f'<urlset xmlns="{SITEMAP_NS}">']
    for page in pages:
        lines += ["  <url>", f"    <loc>{escape(data.url(page.path), quote=False)}</loc>"]
        if page.lastmod:
            lines.append(f"    <lastmod>{escape(page.lastmod, quote=False)}</lastmod>")
        lines.append("  </url>")
    lines.append("</urlset>\n")
    return "\n".join(lines).encode()


def _index(data: SiteData, parts: Mapping[str, Sequence[SitePage]]) -> bytes:
    lines = ["<?xml version='1.0' encoding='utf-8'?>", f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for name, pages in parts.items():
        lines += ["  <sitemap>", f"    <loc>{escape(data.url(name), quote=False)}</loc>"]
        if newest := max((p.lastmod for p in pages if p.lastmod), default=None):  # one format: sorts as text
            lines.append(f"    <lastmod>{escape(newest, quote=False)}</lastmod>")
        lines.append("  </sitemap>")
    lines.append("</sitemapindex>\n")
    return "\n".join(lines).encode()
