"""The build, stage by stage: load everything, analyse it, model the site, then write it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .analyze import Analyzer
from .api import SiteData, build_api, build_sitemap
from .archive import PUBLIC_KEY_FILE, load_archive
from .checklog import read_checks
from .content import load_content
from .diff import TextDiff, diff_texts
from .feeds import build_feeds
from .markup import render_markdown
from .model import Archive
from .render import DEFAULT_THEME, SiteWriter, copy_public_key, render_site
from .rules import load_ruleset
from .search import BUNDLE, index_site
from .signing import key_id_of, read_public_key
from .sitemodel import Analysis, ChangeStats, build_site_view
from .verify import verify_archive

SUMMARIES_DIR = "summaries"


@dataclass(frozen=True)
class BuildReport:
    pages: int
    files_changed: int
    files_removed: int
    documents: int
    versions: int


def change_stats(diff: TextDiff) -> ChangeStats:
    summary = diff.summary
    return ChangeStats(summary.words_added, summary.words_removed, summary.percent_label)


def analyse(archive: Archive, analyzer: Analyzer, content_dir: Path,
            verified_ok: Callable[[Path], bool]) -> Analysis:
    findings, verified, changes, checks, human, diffs = {}, {}, {}, {}, {}, {}
    for doc in archive.documents:
        previous: str | None = None
        for version in doc.versions:
            text = version.read_text()
            findings[(doc.key, version.id)] = analyzer.analyze(doc.key.doc_type, text)
            verified[(doc.key, version.id)] = verified_ok(version.text_path) and verified_ok(
                version.metadata_path)
            if previous is not None:
                diffs[(doc.key, version.id)] = diff = diff_texts(previous, text)
                changes[(doc.key, version.id)] = change_stats(diff)
            previous = text
        checks[doc.key] = read_checks(doc.directory)
        summary = content_dir / SUMMARIES_DIR / doc.key.service / f"{doc.key.doc_type}.md"
        if summary.is_file():
            human[doc.key] = render_markdown(summary.read_text(encoding="utf-8"))
    return Analysis(findings, verified, changes, checks, human, diffs)


def build(content_dir: Path, archive_dir: Path, out: Path, theme: Path | None = None,
          progress: Callable[[str], None] = lambda _: None) -> BuildReport:
    """Build the whole site from content/ and archive/ into out/ (load everything, then write)."""
    progress(f"loading {content_dir}")
    content = load_content(content_dir)
    ruleset = load_ruleset(content_dir, {t.slug for t in content.document_types})
    progress(f"loading {archive_dir}")
    archive = load_archive(archive_dir)
    progress("verifying hashes and signatures")
    report = verify_archive(archive_dir)
    failed = {Path(p.file).resolve() for p in report.problems}
    key_id = key_id_of(read_public_key(archive_dir / PUBLIC_KEY_FILE))

    def verified_ok(path: Path) -> bool:
        return path.resolve() not in failed and path.with_name(path.name + ".minisig").resolve() not in failed

    progress(f"analysing {archive.version_count} versions with {len(ruleset.rules)} rules")
    analysis = analyse(archive, Analyzer(ruleset.rules), content_dir, verified_ok)
    site = build_site_view(content, archive, ruleset, analysis, key_id)
    themes = [theme, DEFAULT_THEME] if theme else [DEFAULT_THEME]
    progress(f"rendering {len(site.documents)} documents, {site.version_count} versions")
    writer = SiteWriter(out)
    pages = render_site(site, writer, themes)
    copy_public_key(archive_dir, writer)
    progress("writing feeds, JSON data and the sitemap")
    data = SiteData(content, archive, ruleset, findings=analysis.findings, checks=analysis.checks)
    for path, body in {**build_feeds(data), **build_api(data), "sitemap.xml": build_sitemap(data)}.items():
        writer.write(path, body)
    # Pagefind's output differs from run to run, so index only when a page changed.
    pages_digest = hashlib.sha256("".join(f"{p} {d}\n" for p, d in sorted(writer.pages.items())).encode())
    marker = f"{BUNDLE}/.pages-sha256"
    if (out / marker).is_file() and (out / marker).read_text() == pages_digest.hexdigest():
        writer.keep(BUNDLE)
    else:
        progress("indexing for search")
        for path, bundle_file in index_site(out):
            writer.write(path, bundle_file)
        writer.write(marker, pages_digest.hexdigest().encode())
    removed = writer.remove_stale()
    return BuildReport(pages, writer.changed, removed, len(site.documents), site.version_count)

