"""View models → files of the static site (Jinja2), written only when their bytes change."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import urlsplit

import jinja2

from . import __version__
from .addresses import linked_addresses
from .annotate import annotate, by_clause
from .archive import PUBLIC_KEY_FILE
from .buildcache import BuildCache
from .buildkeys import SITE, BuildKeys, category_group, changes_group, doc_group, rule_group, service_group
from .checklog import CHECKS_FILE, HEAD_FILE
from .diffhtml import diff_segments, inline_rows, side_rows, unchanged_rows
from .language import language_name
from .listingrows import KeptRows
from .markup import quote_text
from .model import DocKey, Problem
from .sitefolder import BUILD_MARKER, DEFAULT_THEME, check_output_folder
from .sitemodel import DocumentView, ServiceView, SiteView, VersionView
from .uptodate import OutputScan, scan_output
from .workers import can_fork, fork_map

RAW_SUFFIXES = (".md", ".md.minisig", ".json", ".json.minisig")
PARALLEL_MIN_PAGES = 200  # below this, starting workers costs more than it saves


def make_environment(themes: list[Path], bytecode: Path | None = None) -> jinja2.Environment:
    """Templates from the first theme that has them: a site's own theme overrides the default.
    `bytecode`: a folder that keeps compiled templates between builds (keyed by their source)."""
    loader = jinja2.FileSystemLoader([str(t / "templates") for t in themes])
    cache = None
    if bytecode is not None:
        bytecode.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(bytecode))
    # auto_reload off: a build loads each template once; checking its file's time before every
    # page cost a stat per template per page (13,000 at D = 200).
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, bytecode_cache=cache,
                             auto_reload=False)
    env.globals["generator_version"] = __version__
    env.filters["diff_segments"] = diff_segments
    env.filters["diff_inline_rows"] = inline_rows
    env.filters["diff_unchanged_rows"] = unchanged_rows
    env.filters["diff_side_rows"] = side_rows
    env.filters["quote_text"] = quote_text
    env.filters["language_name"] = language_name
    env.filters["linked_addresses"] = linked_addresses
    env.tests["web_url"] = is_web_url
    return env


def is_web_url(value: object) -> bool:
    """An http(s) address: archived URLs (imported metadata may hold any) are links only then."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def relative_root(page_path: str) -> str:
    """'a/b/' → '../../': the prefix that leads from a page back to the site root."""
    return "../" * page_path.count("/")


# [key, SHA-256, size, mtime_ns, searchable] of a file as a build left it; searchable: a page that
# Pagefind indexes (it carries `data-pagefind-body`). Only such pages have their SHA-256 taken.
ManifestEntry = list[Any]
SEARCH_MARK = b"data-pagefind-body"


def _no_symlink(path: str, flags: int) -> int:
    return os.open(path, flags | os.O_NOFOLLOW)  # fails on a link put in place since the check


@dataclass
class SiteWriter:
    """Writes files under out/, skipping identical bytes, and removes what a build no longer makes.

    `previous` is the manifest of the last build into this folder (from the build cache): a file
    whose key (see buildkeys.py) is unchanged and which nobody touched since is not made again.
    Whether anybody touched it is told by its size and mtime: taken from one scan of the folder,
    the caller's (`scan`, made before this writer writes) or else made when first needed, with a
    `stat` of each file asked about before that (the pages Pagefind reads are judged and written
    first, so that it starts before such a scan).
    """

    out: Path
    previous: Mapping[str, ManifestEntry] = field(default_factory=dict)
    changed: int = 0
    skipped: int = 0
    searchable: dict[str, str] = field(default_factory=dict)  # pages Pagefind indexes: path → SHA-256
    manifest: dict[str, ManifestEntry] = field(default_factory=dict)

    worker: bool = False  # a worker process's writer: the parent checks the folder and merges
    folders: set[Path] = field(default_factory=set, repr=False)  # made by this writer already
    _found: OutputScan | None = field(default=None, repr=False)  # scan_output(out), when first needed
    # (size, mtime_ns) of source files by path, as the build found them already (verification
    # lists every archive file): a raw file copied before then costs no stat of its source
    sources: Mapping[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    # the scan of out/ when the caller has one made already (in a child process: pipeline.py), taken
    # before this writer writes anything
    scan: Callable[[], OutputScan] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.worker:
            return
        if self.scan is not None:
            self._found = self.scan()
        check_output_folder(self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.write(BUILD_MARKER, b"clausewatch build output; safe to delete\n")

    @property
    def found(self) -> OutputScan:
        if self._found is None:
            self._found = OutputScan({}, {}) if self.worker else scan_output(self.out)
        return self._found

    def _on_disk(self, relative: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of a file under out/, None if there is none."""
        if self._found is not None:
            return self._found.files.get(relative)
        try:
            stat = os.stat(os.path.join(self.out, relative))
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def unchanged(self, relative: str, key: str) -> bool:
        """True (and the file counts as written) when the last build made it with this key and
        its size and modification time are still what that build left."""
        entry = self.previous.get(relative)
        if entry is None or entry[0] != key:
            return False
        found = self._on_disk(relative)
        if found is None or list(found) != entry[2:4]:
            return False
        self._record(relative, entry)
        self.skipped += 1
        return True

    def _record(self, relative: str, entry: ManifestEntry) -> None:
        self.manifest[relative] = entry
        if len(entry) > 4 and entry[4]:
            self.searchable[relative] = entry[1]

    def write(self, relative: str, data: bytes, key: str = "") -> None:
        path = self.out / relative
        try:
            same = path.read_bytes() == data
            existed = True
        except FileNotFoundError:
            same = existed = False
        if not same:
            if existed:  # a new file, never written through: it may be a hard link (see copy)
                path.unlink()
            self._folder(path)
            path.write_bytes(data)
            self.changed += 1
        stat = path.stat()
        searchable = relative.endswith(".html") and SEARCH_MARK in data
        sha = hashlib.sha256(data).hexdigest() if searchable else ""  # what the search shards need
        self._record(relative, [key, sha, stat.st_size, stat.st_mtime_ns, searchable])

    def copy(self, relative: str, source: str | Path) -> None:
        """The file `source` at `relative`, as a hard link where the file system allows (a version's
        files are thousands of copies otherwise), else as a copy. Archive files are immutable and
        write() replaces a file instead of writing into it, so a link never changes its source.
        A source that is gone or not a file (a damaged archive, which verification reports) is left
        out, and so is a symbolic link: archive/ holds files, and a link could point anywhere (at
        the build's own environment, /proc/self/environ)."""
        known = self.sources.get(os.fspath(source))
        try:
            if known is None:
                found = os.stat(source)
                known = (found.st_size, found.st_mtime_ns)
            key = f"copy {source} {known[0]} {known[1]}"
            if self.unchanged(relative, key):
                return
            stat = os.lstat(source)
        except FileNotFoundError:
            return
        if not S_ISREG(stat.st_mode):
            return
        path = self.out / relative
        self._folder(path)
        try:
            if os.path.samestat(os.stat(path), stat):
                self._record(relative, [key, "", stat.st_size, stat.st_mtime_ns])
                self.skipped += 1
                return
            path.unlink()
        except FileNotFoundError:
            pass
        try:
            os.link(source, path, follow_symlinks=False)
        except OSError:  # another file system, or no hard links there: copy the bytes
            with open(source, "rb", opener=_no_symlink) as file:
                self.write(relative, file.read(), key)
            return
        self.changed += 1
        self._record(relative, [key, "", stat.st_size, stat.st_mtime_ns])

    def _folder(self, path: Path) -> None:
        if path.parent not in self.folders:  # one mkdir per folder, not per file
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)

    def keep(self, folder: str, but: str | None = None) -> None:
        """Count the files that were under `folder` as written by this build (unkeyed), except
        those under its subfolders whose names start with `but`."""
        for path in self.found.files_under(folder, but):
            self._record(path, ["", "", *self.found.files[path]])

    def merge(self, other: WriterResult) -> None:
        """Take in what a worker process wrote."""
        for relative, entry in other.manifest.items():
            self._record(relative, entry)
        self.changed += other.changed
        self.skipped += other.skipped

    def result(self) -> WriterResult:
        return WriterResult(self.manifest, self.changed, self.skipped)

    def remove_stale(self) -> int:
        """Delete the files found before the build that it did not write, then the folders left
        empty (or found empty); return how many files."""
        removed = 0
        emptied = {folder for folder, (subfolders, files) in self.found.folders.items()
                   if folder and not subfolders and not files}
        for path in self.found.files:
            if path not in self.manifest:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.out, path))
                    removed += 1
                emptied.add(path.rpartition("/")[0])
        candidates = set()  # the folders that may be empty now: those and the folders above them
        for folder in emptied:
            while folder and folder not in candidates:
                candidates.add(folder)
                folder = folder.rpartition("/")[0]
        for folder in sorted(candidates, key=lambda f: -f.count("/")):  # the deepest first
            with contextlib.suppress(OSError):  # not empty: something of this build is in it
                os.rmdir(os.path.join(self.out, folder))
        return removed


@dataclass(frozen=True)
class WriterResult:
    manifest: dict[str, ManifestEntry]
    changed: int
    skipped: int


TextHtml = Callable[[DocumentView, VersionView], str]


def annotated_text(doc: DocumentView, version: VersionView, titles: Mapping[str, str]) -> str:
    """A version's text as HTML with its clause anchors and findings marked."""
    base = version.version.url or (doc.declared_urls[0] if doc.declared_urls else None)
    return annotate(version.version.read_text(), by_clause(version.findings), base, titles).html


def rule_titles(site: SiteView) -> dict[str, str]:
    return {r.rule.id: r.rule.title for r in site.rules}


@dataclass(frozen=True)
class Page:
    file: str  # in the output folder
    template: str
    group: str  # its dependency group (buildkeys.py)
    context: Callable[[], dict[str, Any]]  # made only when the page is rendered
    root: str | None = None  # prefix back to the site root; None: from the file's depth
    searched: bool = False  # marked for the search index by SEARCHED_TEMPLATES of the default theme
    rows: bool = False  # a listing page: its template is given `rows` (listingrows.KeptRows)


# The default theme's templates that mark pages for the search index (`data-pagefind-body`): the
# page of each document's latest version (pages flagged `searched`). One page per document: with
# its document page too, every search listed each document twice, and indexing cost twice as much.
SEARCHED_TEMPLATES = frozenset({"version.html"})


def only_searched_pages_marked(themes: list[Path]) -> bool:
    """True when no template but the default theme's SEARCHED_TEMPLATES carries the search mark, so
    that every page the search index takes is one flagged `searched` (a site's own theme may mark
    others: then none is known before every page is written)."""
    for theme in themes:
        folder = theme / "templates"
        for template in folder.rglob("*") if folder.is_dir() else ():
            known = theme == DEFAULT_THEME and template.relative_to(folder).as_posix() in SEARCHED_TEMPLATES
            if not known and template.is_file() and SEARCH_MARK in template.read_bytes():
                return False
    return True


def _page(path: str, template: str, group: str, searched: bool = False, rows: bool = False,
          **context: Any) -> Page:
    return Page(f"{path}index.html", template, group, lambda: {"page_path": path, **context},
                searched=searched, rows=rows)


# The default theme's templates that make a changes page: they show nothing of the versions after
# the page's next one, so the page keeps its own dependency group (buildkeys.changes_group).
CHANGES_TEMPLATES = frozenset({"changes.html", "base.html", "diffmacros.html"})


def changes_pages_apart(themes: list[Path]) -> bool:
    """True when the templates that make a changes page are the default theme's: a site's own
    theme may show anything of the document on it, so its changes pages depend on all of it."""
    return not any((theme / "templates" / name).is_file()
                   for theme in themes if theme != DEFAULT_THEME for name in CHANGES_TEMPLATES)


def site_pages(site: SiteView, text_html: TextHtml, changes_apart: bool = False) -> Iterator[Page]:
    """Every HTML page of the site, with what it depends on. `changes_apart`: changes pages in
    their own groups (changes_pages_apart)."""
    yield _page("", "home.html", SITE)
    for written in site.pages:
        yield _page(written.path, "page.html", SITE, page=written)
    yield _page("search/", "search.html", SITE)
    yield _page("categories/", "categories.html", SITE)
    for category in site.categories:
        yield _page(category.path, "category.html", category_group(category.category.slug), rows=True,
                    category=category)
    yield _page("rules/", "rules.html", SITE)
    for rule in site.rules:
        yield _page(rule.path, "rule.html", rule_group(rule.rule.id), rows=True, rule=rule)
    # The 404 page is served at any depth, so its links start from the site's base path.
    base_path = urlsplit(site.content.settings.base_url).path or "/"
    yield Page("404.html", "404.html", SITE, lambda: {"page_path": "404.html"}, base_path)
    for service in site.services:
        yield _page(service.path, "service.html", service_group(service.slug), service=service)
        for doc in service.documents:
            yield from _document_pages(site, service, doc, text_html, changes_apart)


def _document_pages(site: SiteView, service: ServiceView, doc: DocumentView,
                    text_html: TextHtml, changes_apart: bool) -> Iterator[Page]:
    group = doc_group(doc.key)
    yield _page(doc.path, "document.html", group, service=service, doc=doc, v=doc.latest)
    yield _page(doc.history_path, "history.html", group, service=service, doc=doc)
    for version in doc.versions:
        common = {"service": service, "doc": doc, "v": version}
        yield Page(f"{version.path}index.html", "version.html", group,
                   partial(_version_context, common, text_html), searched=version.id == doc.latest.id)
        previous = doc.version(version.previous_id)
        if previous is not None:
            yield Page(f"{version.changes_path}index.html", "changes.html",
                       changes_group(doc.key, version.id) if changes_apart else group,
                       partial(_changes_context, common, previous, site.diffs))


def _version_context(common: dict[str, Any], text_html: TextHtml) -> dict[str, Any]:
    v: VersionView = common["v"]
    return {**common, "page_path": v.path, "text_html": text_html(common["doc"], v)}


def _changes_context(common: dict[str, Any], previous: VersionView,
                     diffs: Mapping[tuple[DocKey, str], Any]) -> dict[str, Any]:
    v: VersionView = common["v"]
    return {**common, "page_path": v.changes_path, "prev": previous, "diff": diffs[(v.version.key, v.id)]}


@dataclass
class _Renderer:
    env: jinja2.Environment
    common: dict[str, Any]
    pages: list[tuple[Page, str]]  # (page, key) to render
    kept: Callable[[str, str], KeptRows]  # a listing page's rows, by its file and root

    def render(self, writer: SiteWriter, indices: Iterable[int]) -> None:
        for i in indices:
            page, key = self.pages[i]
            context = page.context()
            root = page.root if page.root is not None else relative_root(context["page_path"])
            rows = self.kept(page.file, root) if page.rows else None
            if rows is not None:
                context["rows"] = rows
            html = self.env.get_template(page.template).render(self.common, root=root, **context)
            writer.write(page.file, html.encode(), key)
            if rows is not None:
                rows.save()


_renderer: _Renderer | None = None  # set before the pool forks: workers inherit it


def _render_chunk(out: Path, previous: Mapping[str, ManifestEntry], indices: list[int]) -> WriterResult:
    assert _renderer is not None
    writer = SiteWriter(out, previous, worker=True)
    _renderer.render(writer, indices)
    return writer.result()


_TEMPLATE_LINE = re.compile(r'File "([^"]+\.(?:html|xml|txt))", line (\d+)')


def template_problem(err: jinja2.TemplateError) -> Problem:
    """A template that does not compile or render, as a problem naming its file and line (a site's
    own theme: the default one is tested). A worker process's error carries its traceback as text."""
    if isinstance(err, jinja2.TemplateSyntaxError):
        file, line = err.filename or err.name or "a template", err.lineno
    else:
        text = "".join(traceback.format_tb(err.__traceback__)) + str(err.__cause__ or "")
        found = _TEMPLATE_LINE.findall(text)
        file, line = (found[-1][0], int(found[-1][1])) if found else ("a template", 0)
    return Problem(file, f"line {line}" if line else "", f"{type(err).__name__}: {err.message or err}",
                   "correct the template; the default theme's templates show what each page is given")


def render_site(site: SiteView, writer: SiteWriter, themes: list[Path], keys: BuildKeys | None = None,
                text_html: TextHtml | None = None, workers: int = 1, bytecode: Path | None = None,
                searched_written: Callable[[], None] = lambda: None, cache: BuildCache | None = None) -> int:
    """Write every page whose key changed (all without keys) and the assets; return the number of
    pages of the site. The raw files are copy_raw_files' (a build copies them while Pagefind runs).
    `searched_written` is called once every page the search index may take is written: before the
    others when only the pages flagged `searched` can be (so Pagefind starts sooner), else after all.
    `cache`: where listing pages keep their rows between builds (listingrows.py)."""
    global _renderer
    titles = rule_titles(site)
    make_text = text_html or (lambda doc, v: annotated_text(doc, v, titles))
    env = make_environment(themes, bytecode)
    pages = list(site_pages(site, make_text, changes_apart=keys is not None and changes_pages_apart(themes)))

    def changed(chosen: Iterable[Page]) -> list[tuple[Page, str]]:
        found = []
        for page in chosen:
            key = keys.key(page.group, page.file) if keys else ""
            if not (key and writer.unchanged(page.file, key)):
                found.append((page, key))
        return found

    chrome = keys.chrome if keys else ""
    kept = partial(KeptRows, cache if keys else None, chrome)
    common = {"site": site, "settings": site.content.settings}
    # When only the pages flagged `searched` can carry the search mark, they come first; when few of
    # them changed (a new version), they are judged, a stat each, and written before anything else,
    # so that Pagefind starts before the rest of the output folder is scanned and its pages made.
    early = only_searched_pages_marked(themes)
    todo = changed(p for p in pages if p.searched) if early else []
    told = early and len(todo) < PARALLEL_MIN_PAGES
    if told:
        _Renderer(env, common, todo, kept).render(writer, range(len(todo)))
        searched_written()
        todo = []
    searched = len(todo)  # the searched pages still to write lead todo
    todo += changed(p for p in pages if not (early and p.searched))
    _renderer = renderer = _Renderer(env, common, todo, kept)
    if workers > 1 and len(todo) >= PARALLEL_MIN_PAGES and can_fork():
        for name in env.list_templates():  # compile once, before the workers fork
            env.get_template(name)
        size = max(4, len(todo) // (workers * 8))
        chunks = [list(range(i, min(i + size, len(todo)))) for i in range(0, len(todo), size)]
        for result in fork_map(partial(_render_chunk, writer.out, writer.previous), chunks, workers):
            writer.merge(result)
        if not told:
            searched_written()  # a build this size re-indexes most shards: no head start to win
    else:
        head = searched if early else len(todo)
        renderer.render(writer, range(head))
        if not told:
            searched_written()
        renderer.render(writer, range(head, len(todo)))
    _renderer = None
    assets: dict[str, Path] = {}  # each asset once, from the first theme that has it (the site's own)
    for theme in themes:
        static = theme / "static"
        for asset in sorted(static.rglob("*")) if static.is_dir() else ():
            if asset.is_file():
                assets.setdefault(f"assets/{asset.relative_to(static).as_posix()}", asset)
    for path, asset in sorted(assets.items()):
        writer.copy(path, asset)
    return len(pages)


def copy_raw_files(site: SiteView, writer: SiteWriter) -> None:
    """The raw files beside each version and each document's signed check log."""
    for doc in site.documents:
        for v in doc.versions:
            # Paths as strings: 8,000 Path objects made only to be named cost a tenth of a second.
            folder, raw = os.path.join(v.version.directory, "versions", v.id), v.raw_path("")
            for suffix in RAW_SUFFIXES:
                writer.copy(raw + suffix, folder + suffix)
        for name in (CHECKS_FILE, HEAD_FILE):  # the signed check log, for offline verification
            log = doc.latest.version.directory / name
            if log.is_file():
                writer.copy(f"{doc.path}{name}", log)


def copy_public_key(archive_root: Path, writer: SiteWriter) -> None:
    writer.copy(PUBLIC_KEY_FILE, archive_root / PUBLIC_KEY_FILE)
