"""Load and check content/: site settings, document types, service declarations and pages.

Every problem is collected (not just the first) and names the file, the key and the fix.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from cssselect import SelectorError
from lxml import etree, html
from lxml.cssselect import CSSSelector

from .hosts import LOOPBACK_HOSTS, internal_host
from .model import (
    SLUG_RE,
    Content,
    ContentPage,
    Declaration,
    DocKey,
    DocumentType,
    Problem,
    ProblemsError,
    RangeSelector,
    Selector,
    Service,
    SiteSettings,
    SourcePage,
    display_path,
)
from .noise import NoiseError, checked_noise
from .pages import PAGES_DIR, REQUIRED_PAGES, parse_page
from .strayfiles import stray_files
from .yamlload import load_yaml, yaml_problem

SETTINGS_FILE = "site.yaml"
DOCUMENT_TYPES_FILE = "document-types.yaml"
SERVICES_DIR = "services"

# Top-level URL segments the site uses itself; a service slug must not shadow them.
RESERVED_SLUGS = frozenset(
    {
        "about", "all", "api", "assets", "categories", "data", "feeds", "methodology", "pages",
        "rules", "search", "services", "static", "verify", "404", "pagefind", "index",
    }
)

SERVICE_KEYS = ("name", "operator", "documents")
DOCUMENT_KEYS = ("url", "pages", "select", "remove", "noise")
PAGE_KEYS = ("url", "select", "remove")
SETTINGS_KEYS = ("title", "base_url", "description", "language", "attribution", "repository")
_EMPTY_PAGE = html.fromstring("<html><body></body></html>")  # what a declared selector is tried on
# Pseudo-classes of a browser's state: lxml translates them to "never", so the selector matches
# nothing in a stored page. (Looked for outside quoted strings and attribute brackets.)
_BROWSER_STATE = re.compile(r":(?:hover|active|focus(?:-within|-visible)?|visited|target)\b", re.IGNORECASE)
_QUOTED_OR_BRACKETED = re.compile(r"\"[^\"]*\"|'[^']*'|\[[^\]]*\]")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")  # BCP 47, as <html lang> takes it
RANGE_STARTS = ("start_before", "start_after")
RANGE_ENDS = ("end_before", "end_after")


# How a value that is not what a key wants is shown: a list of YAML aliases nested ten deep has
# billions of items once printed in full.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 120, 120


class _Checker:
    """Collects problems for one file while its values are converted to model records."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, key: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(self.file, key, message, fix))

    def unknown_keys(self, mapping: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
        for name in mapping:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                self.add(_join(where, str(name)), "unknown key", hint)

    def text(self, mapping: dict[Any, Any], name: str, where: str, required: bool = True) -> str:
        value = mapping.get(name)
        if value is None:
            if required:
                self.add(_join(where, name), "missing", f"add '{name}: <text>'")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(_join(where, name), "must be a non-empty string", f"write '{name}: <text>'")
            return ""
        return value.strip()

    def url(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not _is_http_url(value):
            self.add(key, f"not an http(s) URL: {_SHORT.repr(value)}",
                     "write an absolute URL such as https://example.com/terms")
            return ""
        return value

    def page_url(self, value: Any, key: str) -> str:
        """A URL to capture: HTTPS, so that what is signed is what the site served (plain HTTP
        only on this machine's loopback, where nothing lies between)."""
        url = self.url(value, key)
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018  (a port out of range raises here, and at every capture else)
        except ValueError:
            self.add(key, f"{url!r} has no valid port", "write the port as a number from 1 to 65535, or none")
            return ""
        if parts.username is not None or parts.password is not None:
            self.add(key, f"{url!r} holds a user name or password: it would be published with the archive",
                     "declare the page's public address, without credentials")
            return ""
        if url and (inside := internal_host(parts.hostname or "")):
            self.add(key, f"{url!r} is {inside}: the capture job would fetch, sign and publish what its own "
                     "network answers there", "declare the page's public address")
            return ""
        if url and parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            self.add(key, f"plain HTTP: {url!r} could be altered on the way and nothing would show it",
                     f"write https://{url[len('http://'):]}")
            return ""
        return url

    def selectors(self, value: Any, key: str) -> tuple[Selector, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out: list[Selector] = []
        for i, item in enumerate(items):
            where = f"{key}[{i}]" if isinstance(value, list) else key
            if isinstance(item, str):
                if self.css(item, where):
                    out.append(item)
            elif isinstance(item, dict):
                rng = self.range_selector(item, where)
                if rng:
                    out.append(rng)
            else:
                self.add(where, "a selector must be a CSS string or a range",
                         "write a CSS selector such as 'main', or {start_before: CSS, end_before: CSS}")
        return tuple(out)

    def noise(self, value: Any, key: str) -> tuple[re.Pattern[str], ...]:
        """Regular expressions whose matches are volatile text (rotating tokens, timestamps)."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(key, "must be a list of regular expressions", "write '- regex' items")
            return ()
        patterns = []
        for i, item in enumerate(value):
            if not isinstance(item, str):  # str() would make a regex of a list's or a number's repr
                self.add(f"{key}[{i}]", f"must be a regular expression, not {type(item).__name__}",
                         # Single quotes, as CONTRIBUTING.md says: in double quotes "\b" is a backspace.
                         "write the pattern in single quotes, which keep its backslashes: "
                         "- 'Session id: [0-9a-f]+'")
                continue
            try:
                patterns.append(checked_noise(item))
            except NoiseError as err:
                self.add(f"{key}[{i}]", str(err), err.fix)
        return tuple(patterns)

    def css(self, selector: str, key: str) -> bool:
        # Compiled and run as extraction runs it (lxml, HTML rules), not only parsed: a namespace
        # prefix ("svg|rect") parses and then fails every capture.
        try:
            compiled = CSSSelector(selector, translator="html")
            compiled(_EMPTY_PAGE)
        except (SelectorError, etree.XPathError) as err:
            self.add(key, f"invalid CSS selector {selector!r}: {err}", "correct the selector syntax")
            return False
        if _BROWSER_STATE.search(_QUOTED_OR_BRACKETED.sub("", selector)):
            self.add(key, f"CSS selector {selector!r} never matches a stored page",
                     "drop pseudo-classes of a browser's state (:hover, :focus, :visited, :active, ...)")
            return False
        return True

    def range_selector(self, item: dict[Any, Any], key: str) -> RangeSelector | None:
        self.unknown_keys(item, RANGE_STARTS + RANGE_ENDS, key)
        starts = [k for k in RANGE_STARTS if k in item]
        ends = [k for k in RANGE_ENDS if k in item]
        if len(starts) != 1 or len(ends) != 1:
            self.add(key, "a range needs exactly one start and one end",
                     "use one of start_before/start_after and one of end_before/end_after")
            return None
        start, end = item[starts[0]], item[ends[0]]
        if not (isinstance(start, str) and self.css(start, _join(key, starts[0]))):
            return None
        if not (isinstance(end, str) and self.css(end, _join(key, ends[0]))):
            return None
        return RangeSelector(start, starts[0] == "start_before", end, ends[0] == "end_after")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name




def _yaml_kind(value: Any) -> str:
    """What YAML made of a value, in a contributor's words."""
    kinds = {bool: "true/false value", list: "list", str: "string", int: "number", float: "number"}
    return kinds.get(type(value), type(value).__name__)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def _read_yaml(path: Path, display: str, problems: list[Problem]) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(display, "", "file not found", "create it (see README.md, 'Content')"))
    except OSError as err:  # a folder in its place, a symlink loop, no permission: said for this file
        problems.append(Problem(display, "", f"cannot read: {err.strerror}",
                                "make it a readable YAML file, or remove it"))
    except UnicodeDecodeError:
        problems.append(Problem(display, "", "not UTF-8 text", "save the file as UTF-8"))
    except yaml.YAMLError as err:
        problems.append(yaml_problem(display, err, "fix the YAML syntax (indentation, quotes, colons)"))
    return None


def _base_url(check: _Checker, value: Any) -> str:
    """The site's address, ending in '/': every page's URL is made by appending to it."""
    url = check.url(value, "base_url")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        check.add("base_url", f"{url!r} has a query or fragment: page URLs are appended to it",
                  "write the address of the site's folder, e.g. https://example.org/archive/")
    return url.rstrip("/") + "/"


def parse_settings(data: Any, file: str) -> tuple[SiteSettings | None, list[Problem]]:
    check = _Checker(file)
    if not isinstance(data, dict):
        check.add("", "must be a mapping of settings", f"write keys: {', '.join(SETTINGS_KEYS)}")
        return None, check.problems
    check.unknown_keys(data, SETTINGS_KEYS, "")
    settings = SiteSettings(
        title=check.text(data, "title", ""),
        base_url=_base_url(check, data.get("base_url")),
        description=check.text(data, "description", "", required=False),
        language=check.text(data, "language", "", required=False) or "en",
        attribution=check.text(data, "attribution", ""),
        repository=check.url(data["repository"], "repository").rstrip("/") or None
        if data.get("repository") is not None else None,
    )
    if not _LANGUAGE_TAG.fullmatch(settings.language):
        check.add("language", f"{settings.language!r} is not a language tag",
                  "write a BCP 47 tag such as en, de or en-GB (it goes into <html lang>)")
    return settings, check.problems


def parse_document_types(data: Any, file: str) -> tuple[list[DocumentType], list[Problem]]:
    check = _Checker(file)
    types: list[DocumentType] = []
    if not isinstance(data, dict) or not data:
        check.add("", "must map document-type slugs to {name, description}",
                  "write e.g. 'privacy-policy: {name: Privacy Policy, description: ...}'")
        return types, check.problems
    for slug, entry in data.items():
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.add(str(slug), "not a kebab-case slug", "use lower-case words joined by '-'")
            continue
        if not isinstance(entry, dict):
            check.add(slug, "must be a mapping", "write {name: ..., description: ...}")
            continue
        check.unknown_keys(entry, ("name", "description"), slug)
        types.append(DocumentType(slug, check.text(entry, "name", slug),
                                  check.text(entry, "description", slug, required=False)))
    return types, check.problems


def declared_document_types(root: Path) -> list[str] | None:
    """The document-type slugs content/ declares, or None when its file cannot be read as such
    (outside a project: then nothing can be checked against it)."""
    problems: list[Problem] = []
    path = root / DOCUMENT_TYPES_FILE
    data = _read_yaml(path, display_path(path), problems)
    types, found = parse_document_types(data, display_path(path)) if not problems else ([], problems)
    return [t.slug for t in types] if types and not found else None


def parse_service(
    data: Any, slug: str, file: str, doc_types: set[str] | None
) -> tuple[Service | None, list[Problem]]:
    """`doc_types`: the known document types, None when their file did not load (it has a problem
    of its own: each document would otherwise be told its type is unknown)."""
    check = _Checker(file)
    if not SLUG_RE.match(slug):
        check.add("", f"file name {slug!r} is not a kebab-case service slug",
                  "rename the file to lower-case words joined by '-', e.g. acme-cloud.yaml")
    elif slug in RESERVED_SLUGS:
        check.add("", f"service slug {slug!r} collides with a page of the site itself",
                  "rename the file, e.g. to <slug>-app.yaml")
    if not isinstance(data, dict):
        check.add("", "must be a mapping with 'name' and 'documents'",
                  "see content/services/*.yaml for examples")
        return None, check.problems
    check.unknown_keys(data, SERVICE_KEYS, "")
    name = check.text(data, "name", "")
    operator = check.text(data, "operator", "", required=False) or None
    documents = data.get("documents")
    declarations: list[Declaration] = []
    if documents is not None and not isinstance(documents, dict):
        check.add("documents", f"must be a mapping of document types, not a {_yaml_kind(documents)}",
                  "write 'documents:' then, indented under it, 'terms-of-service: {url: https://...}'")
    elif not documents:
        check.add("documents", "missing or empty",
                  "add 'documents:' mapping a document type to at least a 'url'")
    else:
        for doc_type, entry in documents.items():
            decl = _parse_declaration(check, slug, str(doc_type), entry, doc_types)
            if decl:
                declarations.append(decl)
    if check.problems:
        return None, check.problems
    return Service(slug, name, operator, tuple(declarations)), []


def _parse_declaration(check: _Checker, service: str, doc_type: str, entry: Any,
                       doc_types: set[str] | None) -> Declaration | None:
    where = f"documents.{doc_type}"
    if doc_types is not None and doc_type not in doc_types:
        close = difflib.get_close_matches(doc_type, sorted(doc_types), n=1)
        fix = f"did you mean '{close[0]}'?" if close else "add it to content/document-types.yaml"
        check.add(where, f"unknown document type {doc_type!r}", fix)
        return None
    if not isinstance(entry, dict):
        check.add(where, "must be a mapping with a 'url'", f"write '{doc_type}: {{url: https://...}}'")
        return None
    check.unknown_keys(entry, DOCUMENT_KEYS, where)
    select = check.selectors(entry.get("select"), f"{where}.select")
    remove = check.selectors(entry.get("remove"), f"{where}.remove")
    has_url, has_pages = "url" in entry, "pages" in entry
    if has_url == has_pages:
        check.add(where, "needs exactly one of 'url' or 'pages'",
                  "use 'url:' for a single page, 'pages:' for a document assembled from several")
        return None
    pages: list[SourcePage] = []
    if has_url:
        pages.append(SourcePage(check.page_url(entry["url"], f"{where}.url"), select, remove))
    elif not isinstance(entry["pages"], list) or not entry["pages"]:
        check.add(f"{where}.pages", "must be a non-empty list", "write '- url: https://...' items")
    else:
        for i, page in enumerate(entry["pages"]):
            pkey = f"{where}.pages[{i}]"
            if not isinstance(page, dict) or "url" not in page:
                check.add(pkey, "must be a mapping with a 'url'", "write '- url: https://...'")
                continue
            check.unknown_keys(page, PAGE_KEYS, pkey)
            page_select = check.selectors(page.get("select"), f"{pkey}.select") or select
            page_remove = remove + check.selectors(page.get("remove"), f"{pkey}.remove")
            pages.append(SourcePage(check.page_url(page["url"], f"{pkey}.url"), page_select, page_remove))
    noise = check.noise(entry.get("noise"), f"{where}.noise")
    return Declaration(DocKey(service, doc_type), tuple(pages), noise)


def content_folder_problem(root: Path) -> Problem | None:
    """What is wrong with a content path that is no folder: read as one, it told a contributor who
    ran a verb from another folder to create site.yaml and the rest."""
    if root.is_dir():
        return None
    return Problem(str(root), "--content", "not a folder" if root.exists() else "no such folder",
                   "run clausewatch from the project's root folder, or pass --content DIR")


def load_content(root: Path) -> Content:
    """Load content/ or raise ProblemsError listing everything that is wrong."""
    if wrong := content_folder_problem(root):
        raise ProblemsError([wrong])
    problems: list[Problem] = []

    def read(path: Path) -> tuple[bool, Any]:
        before = len(problems)
        data = _read_yaml(path, display_path(path), problems)
        return len(problems) == before, data

    settings: SiteSettings | None = None
    ok, data = read(root / SETTINGS_FILE)
    if ok:
        settings, found = parse_settings(data, display_path(root / SETTINGS_FILE))
        problems += found
    types: list[DocumentType] = []
    ok, data = read(root / DOCUMENT_TYPES_FILE)
    if ok:
        types, found = parse_document_types(data, display_path(root / DOCUMENT_TYPES_FILE))
        problems += found
    slugs = {t.slug for t in types} if ok else None
    services: list[Service] = []
    service_files = sorted((root / SERVICES_DIR).glob("*.yaml"))
    if not service_files:
        problems.append(Problem(display_path(root / SERVICES_DIR), "", "no service declarations",
                                "add one YAML file per service, e.g. services/acme.yaml"))
    problems += stray_files(root / SERVICES_DIR, "*.yaml", set(), "services/<service>.yaml")
    for path in service_files:
        ok, data = read(path)
        if ok:
            service, found = parse_service(data, path.stem, display_path(path), slugs)
            problems += found
            if service:
                services.append(service)
    pages = _load_pages(root, {s.slug for s in services}, problems)
    if problems or settings is None:
        raise ProblemsError(problems)
    return Content(settings, tuple(types), tuple(services), pages)


def _load_pages(root: Path, service_slugs: set[str], problems: list[Problem]) -> tuple[ContentPage, ...]:
    """content/pages/*.md; a page shares the top level of the site with services and the site's own
    names, so its slug must be neither."""
    pages = []
    for path in sorted((root / PAGES_DIR).glob("*.md")):
        file = display_path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(file, "", "not UTF-8 text", "save the file as UTF-8"))
            continue
        page, found = parse_page(path.stem, text, file)
        problems += found
        if page is None:
            continue
        if page.slug in service_slugs:
            problems.append(Problem(file, "", f"page slug {page.slug!r} is also a service's",
                                    "rename the page file"))
        elif page.slug in RESERVED_SLUGS - set(REQUIRED_PAGES):
            problems.append(Problem(file, "", f"page slug {page.slug!r} is a name the site uses itself",
                                    "rename the page file"))
        else:
            pages.append(page)
    return tuple(pages)


def missing_pages(content: Content, root: Path) -> list[Problem]:
    """The pages a site cannot do without (its navigation links to them), if any is missing."""
    have = {p.slug for p in content.pages}
    return [Problem(display_path(root / PAGES_DIR / f"{slug}.md"), "", "file not found",
                    "restore it: the site's navigation links to it (see README.md, 'Content')")
            for slug in REQUIRED_PAGES if slug not in have]
