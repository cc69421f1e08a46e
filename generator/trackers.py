"""Third parties on a captured page: which other sites the raw HTML makes a browser contact
(scripts, frames, pixels, preconnects, stylesheets, forms, …), matched against the Ghostery
Tracker Database for the company behind them and what they do.

Pure: the functions read the page's HTML and URL and a database, never the network. The
database is vendored under generator/data/trackerdb/ (CC BY-NC-SA 4.0, see LICENSE there) and
refreshed by scripts/refresh_trackerdb.py; "third party" compares registrable domains
(eTLD+1) under the Public Suffix List that the `publicsuffixlist` package ships.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from publicsuffixlist import PublicSuffixList

TRACKERDB_LICENSE = "CC-BY-NC-SA-4.0"
TRACKERDB_ATTRIBUTION = (
    "Tracker data: Ghostery Tracker Database (https://github.com/ghostery/trackerdb), "
    "© Ghostery GmbH, CC BY-NC-SA 4.0 (https://creativecommons.org/licenses/by-nc-sa/4.0/); adapted."
)

_FETCH_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_HOST_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$")
_CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)['"]""", re.IGNORECASE)
# A URL that inline script code assigns or passes to a call, e.g. the tag manager snippet's
# j.src='https://www.googletagmanager.com/gtm.js?id='+i or createScriptTag('https://…'). URLs in
# escaped JSON payloads, object literals and arrays (page data, links in the text) do not match.
_SCRIPT_URL_RE = re.compile(r"""[=(]\s*['"`](?:https?:)?//([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?=[/:'"`?#])""",
                            re.IGNORECASE)
_JS_LINE_COMMENT_RE = re.compile(r"^[ \t]*//.*$", re.MULTILINE)
_JS_TYPES = frozenset({"", "text/javascript", "application/javascript", "module", "text/ecmascript",
                       "application/ecmascript"})
_MAX_INLINE_SCRIPT = 1_000_000  # characters of one inline script scanned

# Element → attributes whose URL the browser fetches (or, for forms and pings, sends data to).
_URL_ATTRS: dict[str, tuple[str, ...]] = {
    "script": ("src",),
    "iframe": ("src", "data-src"),
    "frame": ("src",),
    "img": ("src", "srcset", "data-src", "data-srcset"),
    "source": ("src", "srcset", "data-srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src", "formaction"),
    "button": ("formaction",),
    "form": ("action",),
    "image": ("href", "xlink:href"),
    "a": ("ping",),
    "area": ("ping",),
    "body": ("background",),
    "table": ("background",),
    "td": ("background",),
}
# <link rel=…> values that make the browser fetch or connect; canonical, alternate etc. do not.
_LINK_RELS = ("stylesheet", "preconnect", "dns-prefetch", "preload", "modulepreload", "prefetch",
              "prerender", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
              "manifest")


@dataclass(frozen=True)
class Pattern:
    """One entry of the database: a product or behaviour of an organisation."""

    key: str
    name: str
    company: str | None
    category: str | None


@dataclass(frozen=True, eq=False)
class TrackerDB:
    """Domain → pattern table, loaded once and shared (compared by identity)."""

    version: str
    domains: Mapping[str, str]
    patterns: Mapping[str, Pattern]
    categories: Mapping[str, str]  # category key → display name

    def match(self, host: str) -> tuple[str, Pattern] | None:
        """The longest database domain equal to `host` or a parent of it, with its pattern."""
        labels = host.lower().rstrip(".").split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            key = self.domains.get(candidate)
            if key is not None and key in self.patterns:
                return candidate, self.patterns[key]
        return None


@dataclass(frozen=True, order=True)
class Tracker:
    """A third-party host the page refers to; the database fields are None when it is unknown."""

    domain: str  # the host as seen on the page (lower-case, IDNA)
    matched: str | None  # the database domain it matched (itself or a parent domain)
    name: str | None  # e.g. "Google Tag Manager"
    company: str | None  # organisation name, e.g. "Google"
    category: str | None  # database category key, e.g. "advertising", "site_analytics"
    via: tuple[str, ...] = ()  # how the page refers to it: "script", "img", "link:preconnect", …

    @property
    def known(self) -> bool:
        return self.matched is not None

    def to_dict(self) -> dict[str, object]:
        return {"domain": self.domain, "matched": self.matched, "name": self.name,
                "company": self.company, "category": self.category, "via": list(self.via)}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Tracker:
        return cls(row["domain"], row["matched"], row["name"], row["company"], row["category"],
                   tuple(row["via"]))


@dataclass(frozen=True)
class PageTrackers:
    """What a document page says about the trackers of its latest capture."""

    trackers: tuple[Tracker, ...] | None  # None: not listed, for `reason`
    reason: str = ""

    def by_operator(self, operator: str) -> tuple[tuple[Tracker, ...], tuple[Tracker, ...]]:
        """(hosts the database gives to the service's own operator, the third parties)."""
        found = self.trackers or ()
        own = tuple(t for t in found if t.company is not None and same_company(t.company, operator))
        return own, tuple(t for t in found if t not in own)


# Legal-form words that differ between a database's company name and a declared operator.
_LEGAL_FORM = re.compile(r"\b(inc|llc|ltd|limited|gmbh|corp|corporation|co|plc|sa|ag|bv)\b\.?")


def same_company(company: str, operator: str) -> bool:
    """Whether the tracker database's company is the service's operator ("GitHub, Inc." is
    "GitHub"): a host on another domain of the operator itself (Google's gstatic.com on Google's
    policy page) is still a separate site, but not a third party to the reader."""
    def core(name: str) -> str:
        return " ".join(_LEGAL_FORM.sub(" ", name.casefold().replace(",", " ")).split())
    return bool(core(company)) and core(company) == core(operator)


NO_RAW_PAGE = PageTrackers(None, "no raw page of this version is stored")
FAILED = PageTrackers(None, "its stored raw page failed verification")


# --- the database -----------------------------------------------------------------------------

def parse_trackerdb(data: Mapping[str, Any]) -> TrackerDB:
    """Build a TrackerDB from the vendored JSON layout (see scripts/refresh_trackerdb.py)."""
    organizations: Mapping[str, Any] = data.get("organizations", {})
    patterns: dict[str, Pattern] = {}
    for key, raw in data.get("patterns", {}).items():
        org = organizations.get(raw.get("organization") or "")
        company = org.get("name") if isinstance(org, Mapping) else None
        patterns[key] = Pattern(key, str(raw.get("name") or key), company, raw.get("category") or None)
    categories = {k: str(v.get("name", k)) if isinstance(v, Mapping) else str(v)
                  for k, v in data.get("categories", {}).items()}
    domains = {str(k).lower(): str(v) for k, v in data.get("domains", {}).items()}
    version = str(data.get("source", {}).get("version", "unknown"))
    return TrackerDB(version, domains, patterns, categories)


def read_trackerdb(path: Path) -> TrackerDB:
    return parse_trackerdb(json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def load_trackerdb() -> TrackerDB:
    """The database vendored with the package (read once per process)."""
    resource = resources.files("generator").joinpath("data", "trackerdb", "trackerdb.json")
    return parse_trackerdb(json.loads(resource.read_text(encoding="utf-8")))


# --- domains ----------------------------------------------------------------------------------

@functools.cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # parses the list bundled in the package; never downloads


def normalize_host(host: str | None) -> str | None:
    """Lower-case ASCII (IDNA) host without trailing dot, or None when it is no usable host."""
    if not host:
        return None
    host = host.strip().lower().rstrip(".")
    if not host:
        return None
    if _ip(host):
        return host
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if len(host) <= 253 and _HOST_RE.match(host) else None


def _ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def registrable_domain(host: str) -> str:
    """eTLD+1 of a host ("www.bbc.co.uk" → "bbc.co.uk"); IPs and bare suffixes stand for themselves."""
    if _ip(host):
        return host
    return _psl().privatesuffix(host) or host


def host_of(url: str) -> str | None:
    """The normalized host of a fetchable (http, https, ws, wss) absolute URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _FETCH_SCHEMES:
        return None
    return normalize_host(host)


# --- references in the page ---------------------------------------------------------------------

def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html or not html.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (lxml.etree.ParserError, ValueError, UnicodeError):
        return None


def _clean(value: str) -> str:
    # What browsers do to URL attributes before parsing: trim, drop tabs and newlines.
    return value.strip().replace("\t", "").replace("\n", "").replace("\r", "")


def _split_srcset(value: str) -> Iterator[str]:
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            yield parts[0]


def _css_urls(text: str) -> Iterator[str]:
    for match in _CSS_URL_RE.finditer(text):
        yield match.group(1) or match.group(2)


def _link_via(rel: str) -> str | None:
    tokens = rel.lower().split()
    return next((f"link:{r}" for r in _LINK_RELS if r in tokens), None)


def _references(doc: lxml.html.HtmlElement) -> Iterator[tuple[str, str]]:
    """(raw URL, how it is referenced) for every resource reference in document order."""
    for el in doc.iter():
        tag = el.tag
        if not isinstance(tag, str):
            continue
        tag = tag.lower()
        if tag == "link":
            via = _link_via(el.get("rel") or "")
            if via:
                yield el.get("href") or "", via
                yield from ((u, via) for u in _split_srcset(el.get("imagesrcset") or ""))
        for attr in _URL_ATTRS.get(tag, ()):
            value = el.get(attr)
            if not value:
                continue
            if attr.endswith("srcset"):
                yield from ((u, tag) for u in _split_srcset(value))
            elif attr == "ping":
                yield from ((u, "ping") for u in value.split())
            else:
                yield value, tag
        style = el.get("style")
        if style:
            yield from ((u, "style") for u in _css_urls(style))
        if tag == "style" and el.text:
            yield from ((u, "style") for u in _css_urls(el.text))


def _inline_scripts(doc: lxml.html.HtmlElement) -> Iterator[str]:
    for el in doc.iter("script"):
        if el.get("src") or (el.get("type") or "").strip().lower() not in _JS_TYPES:
            continue
        text = el.text or ""
        if text and len(text) <= _MAX_INLINE_SCRIPT:
            yield _JS_LINE_COMMENT_RE.sub("", text)  # commented-out snippets load nothing


def _base_url(doc: lxml.html.HtmlElement, page_url: str) -> str:
    for el in doc.iter("base"):
        href = el.get("href")
        if href:
            try:
                return urljoin(page_url, _clean(href))
            except ValueError:
                return page_url
    return page_url


def _third_party_refs(doc: lxml.html.HtmlElement, page_url: str) -> dict[str, set[str]]:
    """Third-party host → how the page refers to it."""
    page_host = host_of(page_url)
    page_site = registrable_domain(page_host) if page_host else None
    base = _base_url(doc, page_url)
    found: dict[str, set[str]] = {}
    for raw, via in _references(doc):
        ref = _clean(raw)
        if not ref or ref.startswith("#"):
            continue
        try:
            url = urljoin(base, ref)
        except ValueError:
            continue
        host = host_of(url)
        if host and registrable_domain(host) != page_site:
            found.setdefault(host, set()).add(via)
    return found


def third_party_domains(html: str, page_url: str) -> list[str]:
    """Sorted hosts outside the page's registrable domain that the markup loads from or posts to.

    `page_url` is the page's final URL (after redirects); it also resolves relative references.
    Hosts of the same organisation on another registrable domain (a CDN) count as third parties.
    """
    doc = _parse(html)
    return sorted(_third_party_refs(doc, page_url)) if doc is not None else []


def find_trackers(html: str, page_url: str, db: TrackerDB | None = None, *,
                  inline_scripts: bool = True) -> list[Tracker]:
    """Every third-party host of the page, matched against the database, sorted by host.

    Unknown hosts are listed with None in the database fields. With `inline_scripts`, hosts of the
    database that inline scripts name in a URL (tag snippets that inject their loader) are added
    with via "inline-script"; unknown hosts are never taken from script text.
    """
    doc = _parse(html)
    if doc is None:
        return []
    db = db or load_trackerdb()
    refs = _third_party_refs(doc, page_url)
    if inline_scripts:
        page_host = host_of(page_url)
        page_site = registrable_domain(page_host) if page_host else None
        for text in _inline_scripts(doc):
            for match in _SCRIPT_URL_RE.finditer(text):
                host = normalize_host(match.group(1))
                if host and db.match(host) and registrable_domain(host) != page_site:
                    refs.setdefault(host, set()).add("inline-script")
    trackers = []
    for host in sorted(refs):
        hit = db.match(host)
        via = tuple(sorted(refs[host]))
        if hit is None:
            trackers.append(Tracker(host, None, None, None, None, via))
        else:
            matched, pattern = hit
            trackers.append(Tracker(host, matched, pattern.name, pattern.company, pattern.category, via))
    return trackers
