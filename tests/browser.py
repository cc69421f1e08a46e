"""Helpers for testing the built site in a real browser (Debian's Chromium driven by Playwright),
with axe-core (accessibility) and the Nu HTML checker (vnu.jar). The fixtures are in conftest.py.

Nothing here downloads: Chromium, fonts and Java come from Debian, vnu.jar from npm into
.ci/node/, axe-core inside the axe-playwright-python wheel; `bash .ci/run` installs them all.
A missing tool fails the test that needs it (a skipped test in CI hides a defect).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Response

from generator.serve import make_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CLAUSEWATCH_CHROMIUM", "/usr/bin/chromium"))
# As root in CI: no sandbox; and no call home (the machine's network is closed, and a test must
# never depend on the outside world).
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)
VNU_JAR = ROOT / ".ci" / "node" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The checker's work is short: the JIT's first tier alone, with the serial collector, takes
# about a third of the default's time and memory for the same messages (it needs a deeper stack).
VNU_JAVA_OPTIONS = ("-Xss8m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# The site navigation, as the print stylesheet must hide it: the nav landmark labelled "Site".
SITE_NAV = "nav[aria-label='Site']"
SETUP_HINT = "run `bash .ci/run`, which installs every test dependency"
LOCAL_HOSTS = frozenset({"127.0.0.1"})
# Not network requests: they never leave the browser.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
# The icon every page declares (themes/default/templates/base.html), and how Chromium reports a
# request it dropped because the page was left.
SITE_ICON = "/assets/icon.svg"
ABORTED = "net::ERR_ABORTED"
VERSION_ID = re.compile(r"^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$")


def require_chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium not found at {CHROMIUM} (Debian package chromium): {SETUP_HINT}",
                    pytrace=False)
    return CHROMIUM


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.fail(f"java not found (Debian package openjdk-17-jre-headless): {SETUP_HINT}",
                    pytrace=False)
    return java


def require_vnu() -> Path:
    if not VNU_JAR.is_file():
        pytest.fail(f"the Nu HTML checker is missing at {VNU_JAR} (npm vnu-jar in .ci/node): "
                    f"{SETUP_HINT}", pytrace=False)
    return VNU_JAR


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with the flags CI needs (never a browser Playwright downloads)."""
    return playwright.chromium.launch(executable_path=str(require_chromium()), headless=True,
                                      chromium_sandbox=False, args=list(CHROMIUM_ARGS))


# -- the site, served as it is deployed ------------------------------------------------------

@dataclass(frozen=True)
class ServedSite:
    """A built site served on 127.0.0.1 under its deployment base path (e.g. /clausewatch/),
    with its 404 page answering any missing path, as GitHub Pages serves a project site."""

    directory: Path  # the built site
    origin: str  # http://127.0.0.1:PORT
    base_path: str  # /clausewatch/

    def url(self, path: str = "") -> str:
        """The absolute URL of a site path such as 'about/' ('' is the home page)."""
        return self.origin + self.base_path + path.lstrip("/")

    def path_of(self, url: str) -> str:
        """The inverse of url(): the site path of an absolute URL on this server."""
        prefix = self.origin + self.base_path
        assert url.startswith(prefix), f"{url} is not on the served site {prefix}"
        return url[len(prefix):]


@contextmanager
def serve_site(site: Path, base_path: str) -> Iterator[ServedSite]:
    """Serve `site` at `base_path` with generator.serve.make_server, the preview's own server (same
    content types, the 404 page for any missing path), on a daemon thread."""
    base_path = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    server: ThreadingHTTPServer = make_server(site, port=0, quiet=True, base_path=base_path)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield ServedSite(site, f"http://127.0.0.1:{server.server_address[1]}", base_path)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sample_pages(site: Path) -> dict[str, str]:
    """One site path of each page type, chosen from the built site alone (no template knowledge):
    the document with the most versions, a version in the middle of its history (so it has both
    neighbours) and its changes page, its service, the first category and rule, plus the home,
    about, methodology, search, category and rule indexes and a missing page (the 404 page)."""
    histories = sorted(site.glob("*/*/history/index.html"))
    assert histories, f"no history page in {site}: is it a built site?"

    def versions(history: Path) -> list[str]:
        return sorted(p.name for p in history.parent.parent.iterdir()
                      if p.is_dir() and VERSION_ID.match(p.name))

    busiest = max(histories, key=lambda h: (len(versions(h)), -histories.index(h)))
    doc = busiest.parent.parent.relative_to(site).as_posix()
    ids = versions(busiest)
    assert len(ids) >= 2, f"{doc} has {len(ids)} versions: no changes page to sample"
    category, rule = (sorted(site.glob(f"{kind}/*/index.html"))[0].parent.relative_to(site).as_posix()
                      for kind in ("categories", "rules"))
    return {
        "home": "",
        "service": doc.split("/")[0] + "/",
        "document": f"{doc}/",
        "version": f"{doc}/{ids[len(ids) // 2]}/",
        "history": f"{doc}/history/",
        "about": "about/",
        "404": "no-such-page/",
        "changes": f"{doc}/{ids[len(ids) // 2]}/changes/",
        "search": "search/",
        "categories": "categories/",
        "category": f"{category}/",
        "rules": "rules/",
        "rule": f"{rule}/",
        "methodology": "methodology/",
    }


# -- what a page did ---------------------------------------------------------------------------

@dataclass
class PageLog:
    """Everything a page did that a test may forbid: console errors, uncaught exceptions,
    requests (all of them, to check where they went), failed requests and HTTP errors."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageLog:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("request", self._request)
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        return self

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _request_failed(self, request: Request) -> None:
        # The icon loads after the load event (CI run 40 caught it): a test that moves on to the
        # next page at once makes the browser abort it. That is the browser leaving, not the site
        # failing; a missing icon still shows as an HTTP error, and declared_icons() checks it.
        if request.failure == ABORTED and urlsplit(request.url).path.endswith(SITE_ICON):
            return
        self.failed.append(f"{request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.http_errors.append(f"{response.status} {response.url}")

    def clear(self) -> None:
        for entries in (self.console_errors, self.page_errors, self.requests, self.failed,
                        self.http_errors):
            entries.clear()

    def offsite_requests(self, hosts: frozenset[str] = LOCAL_HOSTS) -> list[str]:
        """Requests that would leave the machine (any host but 127.0.0.1)."""
        return [url for url in self.requests
                if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname not in hosts]

    def problems(self, expected_http_errors: tuple[str, ...] = ()) -> list[str]:
        """Console errors, exceptions, failed requests and HTTP errors, except the URLs listed
        (a 404 page's own document answers 404 on purpose; Chromium logs that as a console
        error 'Failed to load resource ... 404', which is then expected too).

        Chromium's own /favicon.ico request, made when a page declares no icon, is left out:
        it comes after the load event or not at all, so a test would see it by chance only.
        declared_icons() checks the same thing every time."""
        expected_console = "the server responded with a status of 404"
        return ([f"console: {e}" for e in self.console_errors
                 if not (expected_console in e and (
                     any(url in e for url in expected_http_errors) or "/favicon.ico)" in e))]
                + [f"exception: {e}" for e in self.page_errors]
                + [f"failed: {e}" for e in self.failed]
                + [f"HTTP {e}" for e in self.http_errors
                   if e.split(" ", 1)[1] not in expected_http_errors])


# -- checks ----------------------------------------------------------------------------------

def axe_violations(page: Page, options: dict[str, Any] | None = None) -> list[str]:
    """axe-core's violations on the current page, one readable line per rule and element."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page, options=options or {"resultTypes": ["violations"]})
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            details = "; ".join(check["message"] for kind in ("any", "all", "none")
                                for check in node.get(kind, []))
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                         f"{', '.join(map(str, node['target']))}: {node['html'][:160]} -- {details}")
    return lines


def declared_icons(page: Page) -> list[str]:
    """The icons a page declares (<link rel="icon">), as absolute URLs. Without one, browsers
    request /favicon.ico at the host's root, outside a site deployed under a base path."""
    hrefs = page.eval_on_selector_all("link[rel~='icon' i][href]", "links => links.map(l => l.href)")
    assert isinstance(hrefs, list)
    return [str(h) for h in hrefs]


def horizontal_overflow(page: Page) -> int:
    """By how many CSS pixels the page is wider than the viewport (0 or less: no scrollbar)."""
    overflow = page.evaluate("document.documentElement.scrollWidth"
                             " - document.documentElement.clientWidth")
    assert isinstance(overflow, int)
    return overflow


def overflowing_elements(page: Page, limit: int = 5) -> list[str]:
    """What makes a page too wide, for messages: the innermost elements that stick out past the
    viewport's right edge, or whose content overflows them, outside any scrolling container."""
    found = page.evaluate("""limit => {
        const width = document.documentElement.clientWidth;
        const clipped = e => {
            for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
                if (getComputedStyle(a).overflowX !== 'visible') return true;
            return false;
        };
        const wide = [...document.body.querySelectorAll('*')].filter(e => {
            if (clipped(e)) return false;
            return e.getBoundingClientRect().right > width + 1
                || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
                    && getComputedStyle(e).overflowX === 'visible');
        });
        const innermost = wide.filter(e => !wide.some(d => d !== e && e.contains(d)));
        return innermost.slice(0, limit).map(e => {
            const name = e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className.trim()
                ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
            const text = (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60);
            const right = Math.round(e.getBoundingClientRect().right);
            const content = e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0
                ? `, content ${e.scrollWidth}px in ${e.clientWidth}px` : '';
            return `${name} "${text}" (right edge at ${right}px${content})`;
        });
    }""", limit)
    return [str(item) for item in found]


def links_to(page: Page, target: str) -> list[str]:
    """The hrefs, as written, of the page's links that resolve to the absolute URL `target`
    (read from the HTML, so it works with JavaScript disabled)."""
    tree = lxml.html.fromstring(page.content())
    return [str(a.get("href")) for a in tree.iter("a")
            if a.get("href") is not None and urljoin(page.url, a.get("href")).split("#")[0] == target]


def follow_link(page: Page, target: str) -> None:
    """Click a visible link of the page that leads to `target`, and wait for that page."""
    hrefs = links_to(page, target)
    assert hrefs, f"{page.url} has no link to {target}"
    candidates = [page.locator(f"a[href={json.dumps(href)}]") for href in dict.fromkeys(hrefs)]
    visible = [link for c in candidates for link in c.all() if link.is_visible()]
    assert visible, f"{page.url}: every link to {target} is hidden"
    with page.expect_navigation():
        visible[0].click()
    assert page.url == target, f"following a link to {target} led to {page.url}"


@dataclass(frozen=True)
class VnuResult:
    returncode: int
    messages: list[str]
    seconds: float


def run_vnu(paths: list[Path], relative_to: Path | None = None) -> VnuResult:
    """The Nu HTML checker on files or folders: errors only, non-HTML files skipped."""
    command = [require_java(), *VNU_JAVA_OPTIONS, "-jar", str(require_vnu()), "--errors-only",
               "--skip-non-html", *map(str, paths)]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    seconds = time.monotonic() - start
    messages = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    if relative_to is not None:  # vnu names files file:/abs/path
        prefix = f'"file:{relative_to.resolve().as_posix()}/'
        messages = [m.replace(prefix, '"') for m in messages]
    return VnuResult(result.returncode, messages, seconds)
