"""The build, stage by stage: load everything, analyse it, model the site, then write it."""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import jinja2

from . import search
from .analysis import (
    Annotations,
    EarlierWordings,
    LazyDiffs,
    analyse_archive,
    changes_by_version,
    finding_changes_by_version,
    findings_by_version,
    superseded_by_version,
    unread_versions,
)
from .annotate import text_html_key
from .api import SiteData, api_files
from .archive import PUBLIC_KEY_FILE, load_archive
from .buildcache import BuildCache, digest, files_digest
from .buildkeys import (
    SITE,
    build_keys,
    chrome_digest,
    rules_shown,
    tree_files,
    with_category_feeds,
    with_listings,
)
from .checklog import read_checks
from .content import load_content, missing_pages
from .feedcache import CachedEntries
from .feeds import category_selections, feed_files
from .lazyregex import compile_all
from .markup import render_markdown
from .model import Archive, Content, DocKey, ProblemsError
from .prefilter import KnownGates, derive_gates, gates_from_stored, stored_gates
from .preflight import Preflight, preflight
from .rawpages import latest_trackers
from .render import (
    SiteWriter,
    TextHtml,
    annotated_text,
    copy_public_key,
    copy_raw_files,
    render_site,
    rule_titles,
    template_problem,
)
from .rules import RULES_DIR, Ruleset, load_ruleset, rule_regexes
from .searchindex import SearchIndexing
from .signing import key_id_of, read_public_key
from .sitemap import sitemap_files
from .sitemodel import Analysis, DocumentView, VersionView, build_site_view
from .uptodate import RACY_NS, OutputScan, scan_output
from .verify import VerifyReport, verify_archive
from .workers import InChild, worker_count

SUMMARIES_DIR = "summaries"


@dataclass(frozen=True)
class BuildReport:
    pages: int
    files_changed: int
    files_removed: int
    documents: int
    versions: int
    files_kept: int = 0  # not made again: their inputs did not change
    stages: tuple[tuple[str, float], ...] = ()  # (stage, seconds) of a build that made anything


class _Stopwatch:
    """Seconds spent in each stage of a build, for its report."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps.append((stage, now - self.last))
        self.last = now


def _summaries(archive: Archive, content_dir: Path) -> dict[DocKey, str]:
    human = {}
    for doc in archive.documents:
        summary = content_dir / SUMMARIES_DIR / doc.key.service / f"{doc.key.doc_type}.md"
        if summary.is_file():
            human[doc.key] = render_markdown(summary.read_text(encoding="utf-8"))
    return human


def _first_declared_url(content: Content, key: DocKey) -> str | None:
    declaration = content.declaration(key)
    return declaration.pages[0].url if declaration and declaration.pages else None


def _text_html_cached(cache: BuildCache, titles: dict[str, str],
                      verified_sha: Callable[[Path], str | None]) -> TextHtml:
    """Annotated version texts from the cache, keyed by text hash, findings, base URL and titles."""
    def text_html(doc: DocumentView, v: VersionView) -> str:
        sha = verified_sha(v.version.text_path)
        if sha is None:
            return annotated_text(doc, v, titles)
        key = text_html_key(sha, v.version.url, doc.declared_urls[0] if doc.declared_urls else None,
                            v.findings, titles)
        html = cache.get("text-html", key)  # usually left there by the analysis (analysis.py)
        if not isinstance(html, str):
            html = annotated_text(doc, v, titles)
            cache.put("text-html", key, html)
        return html
    return text_html


def _load_rules(content_dir: Path, doc_types: set[str], cache: BuildCache) -> tuple[Ruleset, KnownGates]:
    """The ruleset and its regexes' literal gates. Once the very same regexes compiled in an earlier
    build, they are compiled when first used and their gates are that build's (lazyregex.py and
    prefilter.py say why)."""
    ruleset = load_ruleset(content_dir, doc_types, lazy=True)
    regexes = rule_regexes(ruleset.rules)
    key = digest(*(r.key for r in regexes))
    known = gates_from_stored(cache.get("rule-gates", key))
    if known is not None:
        return ruleset, known
    try:
        compile_all(regexes)
    except re.error:  # load it again, checking each regex: the error names the file and key
        ruleset = load_ruleset(content_dir, doc_types)
        regexes = rule_regexes(ruleset.rules)  # the file changed since and compiles now
        key = digest(*(r.key for r in regexes))
    gates = derive_gates(r for rule in ruleset.rules for p in rule.patterns for r in p.all)  # gated: patterns
    cache.put("rule-gates", key, stored_gates(gates))
    return ruleset, gates


def _verify(archive_dir: Path, cache: BuildCache, workers: int) -> VerifyReport:
    """verify_archive, taking over the last build's checks of documents whose files are unchanged
    (verify.py says how): kept per public key and archive folder."""
    key_file = archive_dir / PUBLIC_KEY_FILE
    key = digest(key_file.read_bytes() if key_file.is_file() else b"",  # missing: verify says so
                 str(archive_dir.resolve()))
    last = cache.get("verified-documents", key)
    last = last if isinstance(last, dict) and isinstance(last.get("documents"), dict) else {"documents": {}}
    # As for the input stamp: a file modified just before it was checked may change again within
    # one mtime tick, so only documents whose files were all older than that are taken at their stat.
    settled = last.get("taken", 0) - RACY_NS
    proofs = {folder: proof for folder, proof in last["documents"].items()
              if all(file[2] < settled for file in proof["files"])}
    known_files = {path: facts for proof in proofs.values() for path, *facts in proof["facts"]}
    known_good = frozenset(memo for proof in last["documents"].values() for memo in proof["good"])
    taken = time.time_ns()
    report = verify_archive(archive_dir, known_good=known_good, known_files=known_files,
                            known_documents=proofs, workers=workers)
    if report.proofs != last["documents"]:
        cache.put("verified-documents", key, {"taken": taken, "documents": report.proofs})
    return report

GC_YOUNG = 20_000  # allocations between collections of the young generation during a build (build())


def build(content_dir: Path, archive_dir: Path, out: Path, theme: Path | None = None,
          progress: Callable[[str], None] = lambda _: None, cache_dir: Path | None = None,
          workers: int | None = None, documents_per_shard: int = search.DOCUMENTS_PER_SHARD,
          checked: Preflight | None = None) -> BuildReport:
    """Build the site from content/ and archive/ into out/, making again only what changed since
    the last build into out/ (see buildcache.py and buildkeys.py). `checked`: the preflight of
    this very build, when the caller took it already (to skip the build's code when it is a no-op)."""
    # What each stage loads lives until the end: frozen, the collector stops scanning it over and
    # over (a tenth of an incremental build), and forked workers do not copy its pages to scan them.
    # So do the modules imported by then. Most of what a stage makes lives on too: a collection of
    # the young generation every GC_YOUNG allocations instead of every 700 walks it a tenth as often
    # (the collector took 0.11 s of an incremental build at D = 200, then 0.04 s).
    threshold = gc.get_threshold()
    try:
        gc.freeze()
        gc.set_threshold(GC_YOUNG, *threshold[1:])
        pre = checked or preflight(content_dir, archive_dir, out, theme, cache_dir, documents_per_shard)
        return _build(content_dir, archive_dir, out, pre, progress, workers, documents_per_shard)
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()  # a caller that goes on (tests, serve) gets its garbage collected again


def _build(content_dir: Path, archive_dir: Path, out: Path, pre: Preflight,
           progress: Callable[[str], None], workers: int | None, documents_per_shard: int) -> BuildReport:
    if (same := pre.unchanged) is not None:
        progress("nothing changed since the last build into this folder")
        pages, documents, versions, kept = same
        return BuildReport(pages, 0, 0, documents, versions, kept)
    # The writer judges the output folder by one scan of it (uptodate.scan_output), made in a child
    # process on a core this one leaves idle while it loads and analyses: an incremental build's
    # critical path loses a walk and a stat of every file (17,000 at D = 200, 0.15 to 0.3 s). Not
    # when one process is asked for (--jobs 1), or there is one core to run on.
    workers = workers or worker_count()
    with InChild(partial(scan_output, out), fork=workers > 1) as scan:
        return _make(content_dir, archive_dir, out, pre, progress, workers, documents_per_shard, scan.result)


def _make(content_dir: Path, archive_dir: Path, out: Path, pre: Preflight, progress: Callable[[str], None],
          workers: int, documents_per_shard: int, found: Callable[[], OutputScan]) -> BuildReport:
    cache, code, themes, last, stamp = pre.cache, pre.code, pre.themes, pre.last, pre.stamp
    watch = _Stopwatch()
    # The digests that key the cache and the pages are taken before anything is read: a file edited
    # during the build then leaves a key that the next build finds changed (taken after, it would
    # file what was made from the old bytes under the new ones for good).
    rules_digest = files_digest([p for _, p in tree_files(content_dir / RULES_DIR)], content_dir)
    inputs_digest = chrome_digest(code, content_dir, themes, "")
    progress(f"loading {content_dir}")
    content = load_content(content_dir)
    if missing := missing_pages(content, content_dir):
        raise ProblemsError(missing)
    ruleset, gates = _load_rules(content_dir, {t.slug for t in content.document_types}, cache)
    progress(f"loading {archive_dir}")
    archive = load_archive(archive_dir)
    gc.freeze()
    progress("verifying hashes and signatures")
    report = _verify(archive_dir, cache, workers)
    public_key = read_public_key(archive_dir / PUBLIC_KEY_FILE)
    key_id, key_text = key_id_of(public_key), public_key.to_base64().decode("ascii")
    if report.problems:
        progress(f"warning: {len(report.problems)} problem(s) with the archive's files; their versions are "
                 "shown as failing verification (`clausewatch verify` lists them)")
    failed = {Path(p.file) for p in report.problems}  # paths as verify_archive made them

    def verified_ok(path: Path) -> bool:
        # Asked for every file of every version: a sound archive (no failures) skips the path work.
        return not failed or (path not in failed and path.with_name(path.name + ".minisig") not in failed)

    def verified_sha(path: Path) -> str | None:
        return report.verified.get(path) if verified_ok(path) else None

    watch.lap("loading and verifying")
    declared = {doc.key: _first_declared_url(content, doc.key) for doc in archive.documents}
    annotations = Annotations({r.id: r.title for r in ruleset.rules}, declared)
    results = analyse_archive(archive, ruleset.rules, rules_digest, verified_sha, cache, progress, workers,
                              annotations, gates)
    watch.lap("analysis")
    gc.freeze()
    verified = {(doc.key, v.id): verified_ok(v.text_path) and verified_ok(v.metadata_path)
                for doc in archive.documents for v in doc.versions}
    checks = {doc.key: read_checks(doc.directory) for doc in archive.documents}
    analysis = Analysis(findings_by_version(results), verified, changes_by_version(results), checks,
                        _summaries(archive, content_dir), LazyDiffs(archive, verified_sha, cache),
                        latest_trackers(archive, verified_ok, cache), unread_versions(results),
                        finding_changes_by_version(results), superseded_by_version(results))
    site = build_site_view(content, archive, ruleset, analysis, key_id, documents_per_shard, key_text)
    gc.freeze()
    archive_files = {path: (size, mtime) for proof in report.proofs.values()
                     for path, size, mtime, _inode in proof["files"]}
    writer = SiteWriter(out, last.get("files", {}), sources=archive_files, scan=found)
    chrome = digest(inputs_digest, rules_shown(ruleset.rules), f"{key_text} {documents_per_shard}")
    analysed = {(key, vid): d for key, r in results.items() for vid, d in r.analysed.items()}
    keys = with_listings(build_keys(chrome, archive, verified_ok, analysed), site)
    progress(f"rendering {len(site.documents)} documents, {site.version_count} versions")
    text_html = _text_html_cached(cache, rule_titles(site), verified_sha)
    earlier = EarlierWordings(verified_sha, cache)  # older versions' superseded wording, for search
    indexing = SearchIndexing(site, writer, workers, progress, earlier, code)  # render_site starts it
    try:
        pages = render_site(site, writer, themes, keys, text_html, workers, cache.folder / "templates",
                            indexing.start, cache)
    except jinja2.TemplateError as err:  # a site's own theme
        raise ProblemsError([template_problem(err)]) from err
    watch.lap("pages")
    copy_raw_files(site, writer)  # not searched: copied while Pagefind indexes the pages
    copy_public_key(archive_dir, writer)
    progress("writing feeds, JSON data and the sitemap")
    data = SiteData(content, archive, ruleset, findings=analysis.findings, checks=analysis.checks,
                    unread=analysis.unread, changes=analysis.changes,
                    finding_changes=analysis.finding_changes, verified=analysis.verified, key_id=key_id)
    selections = category_selections(data)
    keys = with_category_feeds(keys, selections, data.newest_capture())
    files = {**feed_files(data, selections=selections, kept=CachedEntries(cache, keys)), **api_files(data),
             **{path: (SITE, make) for path, make in sitemap_files(data).items()}}
    for path, (group, make) in files.items():
        key = keys.key(group, path)
        if not writer.unchanged(path, key):
            writer.write(path, make(), key)
    indexing.finish()
    removed = writer.remove_stale()
    cache.put("site", pre.manifest_key, {"inputs": stamp.as_list(), "files": writer.manifest,
                                      "report": [pages, len(site.documents), site.version_count]})
    watch.lap("search index, feeds and data")
    return BuildReport(pages, writer.changed, removed, len(site.documents), site.version_count,
                       writer.skipped, tuple(watch.laps))

