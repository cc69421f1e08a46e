"""View models → files of the static site (Jinja2), written only when their bytes change."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from . import __version__
from .annotate import annotate
from .archive import PUBLIC_KEY_FILE
from .checklog import CHECKS_FILE, HEAD_FILE
from .model import Finding
from .sitemodel import DocumentView, SiteView, VersionView

DEFAULT_THEME = Path(__file__).resolve().parent.parent / "themes" / "default"
BUILD_MARKER = ".clausewatch-site"
RAW_SUFFIXES = (".md", ".md.minisig", ".json", ".json.minisig")


class SiteOutputError(Exception):
    """The output folder cannot be used safely."""


def make_environment(themes: list[Path]) -> jinja2.Environment:
    """Templates from the first theme that has them: a site's own theme overrides the default."""
    loader = jinja2.FileSystemLoader([str(t / "templates") for t in themes])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals["generator_version"] = __version__
    return env


def relative_root(page_path: str) -> str:
    """'a/b/' → '../../': the prefix that leads from a page back to the site root."""
    return "../" * page_path.count("/")


@dataclass
class SiteWriter:
    """Writes files under out/, skipping identical bytes, and removes what a build no longer makes."""

    out: Path
    written: set[Path] = field(default_factory=set)
    changed: int = 0
    pages: dict[str, str] = field(default_factory=dict)  # HTML written this build: path → SHA-256

    def __post_init__(self) -> None:
        if self.out.exists() and any(self.out.iterdir()) and not (self.out / BUILD_MARKER).exists():
            raise SiteOutputError(
                f"{self.out} is not empty and was not made by clausewatch; "
                "choose an empty or new folder for --out"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        self.write(BUILD_MARKER, b"clausewatch build output; safe to delete\n")

    def write(self, relative: str, data: bytes) -> None:
        path = self.out / relative
        self.written.add(path)
        if relative.endswith(".html"):
            self.pages[relative] = hashlib.sha256(data).hexdigest()
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.changed += 1

    def copy(self, relative: str, source: Path) -> None:
        self.write(relative, source.read_bytes())

    def keep(self, folder: str) -> None:
        """Count the files already under `folder` as written by this build."""
        self.written.update(p for p in (self.out / folder).rglob("*") if p.is_file())

    def remove_stale(self) -> int:
        stale = [p for p in self.out.rglob("*") if p.is_file() and p not in self.written]
        for path in stale:
            path.unlink()
        for folder in sorted((p for p in self.out.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        return len(stale)


def _text_html(doc: DocumentView, version: VersionView, titles: dict[str, str]) -> str:
    base = version.version.url or (doc.declared_urls[0] if doc.declared_urls else None)
    by_clause: dict[str, list[Finding]] = {}
    for finding in version.findings:
        by_clause.setdefault(finding.clause_id, []).append(finding)
    return annotate(version.version.read_text(), by_clause, base, titles).html


def _pages(site: SiteView) -> Iterator[tuple[str, str, dict[str, object]]]:
    """(page path, template, context) for every HTML page of the site."""
    titles = {r.rule.id: r.rule.title for r in site.rules}
    yield "", "home.html", {}
    yield "about/", "about.html", {}
    yield "methodology/", "methodology.html", {}
    yield "search/", "search.html", {}
    yield "categories/", "categories.html", {}
    for category in site.categories:
        yield category.path, "category.html", {"category": category}
    yield "rules/", "rules.html", {}
    for rule in site.rules:
        yield rule.path, "rule.html", {"rule": rule}
    for service in site.services:
        yield service.path, "service.html", {"service": service}
        for doc in service.documents:
            latest = doc.latest
            yield doc.path, "document.html", {"service": service, "doc": doc, "v": latest}
            yield doc.history_path, "history.html", {"service": service, "doc": doc}
            for version in doc.versions:
                yield version.path, "version.html", {"service": service, "doc": doc, "v": version,
                                                     "text_html": _text_html(doc, version, titles)}
                previous = doc.version(version.previous_id)
                if previous is not None:
                    yield version.changes_path, "changes.html", {
                        "service": service, "doc": doc, "v": version, "prev": previous,
                        "diff": site.diffs[(doc.key, version.id)]}


def render_site(site: SiteView, writer: SiteWriter, themes: list[Path]) -> int:
    """Write every page, the raw files beside each version, the key and the assets; return pages."""
    env = make_environment(themes)
    common = {"site": site, "settings": site.content.settings}
    count = 0
    for path, template, context in _pages(site):
        html = env.get_template(template).render(common, root=relative_root(path), page_path=path,
                                                 **context)
        writer.write(f"{path}index.html", html.encode())
        count += 1
    # The 404 page is served at any depth, so its links start from the site's base path.
    base_path = urlsplit(site.content.settings.base_url).path or "/"
    html = env.get_template("404.html").render(common, root=base_path, page_path="404.html")
    writer.write("404.html", html.encode())
    for doc in site.documents:
        for v in doc.versions:
            for suffix in RAW_SUFFIXES:
                name = f"versions/{v.id}{suffix}"
                writer.copy(v.raw_path(suffix), v.version.directory / name)
        for name in (CHECKS_FILE, HEAD_FILE):  # the signed check log, for offline verification
            log = doc.latest.version.directory / name
            if log.is_file():
                writer.copy(f"{doc.path}{name}", log)
    for theme in reversed(themes):  # later copies (the site's own theme) win
        static = theme / "static"
        for asset in sorted(static.rglob("*")) if static.is_dir() else ():
            if asset.is_file():
                writer.copy(f"assets/{asset.relative_to(static).as_posix()}", asset)
    return count


def copy_public_key(archive_root: Path, writer: SiteWriter) -> None:
    writer.copy(PUBLIC_KEY_FILE, archive_root / PUBLIC_KEY_FILE)
