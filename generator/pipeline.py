"""The build, stage by stage: load content, load archive, model the site, render, write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .archive import load_archive
from .content import load_content
from .render import DEFAULT_THEME, SiteWriter, copy_public_key, render_site
from .sitemodel import build_site_view


@dataclass(frozen=True)
class BuildReport:
    pages: int
    files_changed: int
    files_removed: int
    documents: int
    versions: int


def build(content_dir: Path, archive_dir: Path, out: Path, theme: Path | None = None,
          progress: Callable[[str], None] = lambda _: None) -> BuildReport:
    """Build the whole site from content/ and archive/ into out/ (load everything, then write)."""
    progress(f"loading {content_dir}")
    content = load_content(content_dir)
    progress(f"loading {archive_dir}")
    archive = load_archive(archive_dir)
    site = build_site_view(content, archive)
    themes = [theme, DEFAULT_THEME] if theme else [DEFAULT_THEME]
    progress(f"rendering {len(site.documents)} documents, {site.version_count} versions")
    writer = SiteWriter(out)
    pages = render_site(site, writer, themes)
    copy_public_key(archive_dir, writer)
    removed = writer.remove_stale()
    return BuildReport(pages, writer.changed, removed, len(site.documents), site.version_count)
