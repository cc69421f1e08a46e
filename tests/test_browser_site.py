"""The built site's interactive parts and its safety end to end, in real headless Chromium.

- Search (Pagefind's Component UI on /search/): a word read from the archive finds its
  document, a service filter narrows the results, nonsense finds nothing, nothing leaves 127.0.0.1;
  axe-core on the page with its results and filters rendered, light and dark.
- Changes pages: <ins>/<del>, the `j` / `k` keys, and the same jumps through plain links without
  JavaScript; the history page's "compare any two versions" form, rendered with text nodes only.
- A hostile page captured through the real capture code (local HTTP server, demo key), built
  and served: nothing in it runs, no element of it reaches the DOM, its markup shows as text.
- Permalinks: adding a version and rebuilding into the same folder keeps every published file
  and every clause anchor of the older versions.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

import lxml.html
import pytest
import yaml
from playwright.sync_api import Dialog, Locator, Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from generator import GENERATOR, search
from generator.archive import ArchiveWriter, NewVersion, load_archive
from generator.capture import Capture, CheckResult, run_capture
from generator.clauses import split_clauses
from generator.content import load_content
from generator.earlier import superseded
from generator.fetch import FetchSettings
from generator.model import Archive, Content
from generator.pipeline import build
from generator.signing import Signer
from generator.urls import version_path
from generator.verify import verify_archive

from .browser import VERSION_ID, PageLog, ServedSite, axe_violations, run_vnu, serve_site
from .conftest import ROOT, NewPage
from .localserver import LocalServer, html

T = TypeVar("T")

# ---- helpers ---------------------------------------------------------------------------------


def run_in_thread(work: Callable[[], T]) -> T:
    """Run `work` on a fresh thread: Playwright's sync API makes this thread look like it runs an
    event loop, so asyncio.run() (the capture) must not run here once a browser test has started."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def version_ids(doc_dir: Path) -> list[str]:
    """The version ids of a document folder of the built site, oldest first."""
    return sorted(p.name for p in doc_dir.iterdir() if p.is_dir() and VERSION_ID.match(p.name))


def parse(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def clause_anchors(page: Path) -> set[str]:
    """The ids of the clause anchors (`#c-…`) of a built page."""
    return {str(e.get("id")) for e in parse(page).iter() if str(e.get("id") or "").startswith("c-")}


def policy_text_html(page: Path) -> bytes:
    """The serialized full text (div.policy-text) of a built version page."""
    found = parse(page).find_class("policy-text")
    assert len(found) == 1, f"{page}: {len(found)} div.policy-text"
    return bytes(lxml.html.tostring(found[0]))


def base_path_of(content_dir: Path) -> str:
    return urlsplit(load_content(content_dir).settings.base_url).path


def paragraphs(text: str) -> list[str]:
    """A text's paragraphs, split as compare.js splits them (blank lines)."""
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if p.strip()]


def normalized(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Guard:
    """What a hostile page could do in the browser: dialogs it opened, plus the page's log."""

    log: PageLog
    dialogs: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def guarded_page(new_page: NewPage) -> tuple[Page, Guard]:
    page, log = new_page()
    guard = Guard(log)
    page.on("dialog", guard.on_dialog)
    return page, guard


def assert_clean(guard: Guard, where: str) -> None:
    problems = guard.log.problems()
    assert not problems, f"{where}:\n" + "\n".join(problems)
    offsite = guard.log.offsite_requests()
    assert not offsite, f"{where}: requests leaving 127.0.0.1:\n" + "\n".join(offsite)
    assert not guard.dialogs, f"{where}: dialogs opened: {guard.dialogs}"


# ---- 1. search -------------------------------------------------------------------------------

WORD = re.compile(r"(?<![\w'’-])[a-z]{10,}(?![\w'’-])")
ANY_WORD = re.compile(r"[a-z]{4,}")
# Link targets and bare URLs are not shown as text, so Pagefind does not index their words.
NOT_TEXT = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
# Pagefind stems words ("accountants" finds "account") and joins hyphenated ones: a word's
# family, for choosing a term, is every word sharing its first letters.
FAMILY = 6
# Pagefind matches a word it does not know by its longest known start, down to one letter ("q" of a
# list item "q." found "qzxj…"): the nonsense word starts with a letter that is in no text.
NONSENSE = "\u01c2qzxjvwkpfhgrtm"


def shown_text(markdown: str) -> str:
    return NOT_TEXT.sub(" ", markdown.lower())


def all_words(text: str) -> set[str]:
    return set(ANY_WORD.findall(text)) | set(ANY_WORD.findall(text.replace("-", "")))


def yaml_strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from yaml_strings(key)
            yield from yaml_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_strings(item)


def content_words() -> set[str]:
    """Words of the content files' values (a superset of what pages quote from settings and rules):
    comments are never shown, so editing one does not change the chosen search terms."""
    words: set[str] = set()
    for yaml_file in sorted((ROOT / "content").rglob("*.yaml")):
        for text in yaml_strings(yaml.safe_load(yaml_file.read_text(encoding="utf-8"))):
            words |= all_words(text.lower())
    return words


@dataclass(frozen=True)
class SearchCase:
    term: str
    doc_path: str  # <service>/<doc-type>/
    service_slug: str
    service_name: str
    services_with_term: tuple[str, ...]


def choose_search_case(content: Content, archive: Archive) -> SearchCase:
    """A word of one document's latest version whose family (see FAMILY) is in the latest
    versions of 2 to 4 documents of 2 or 3 services, so that it has few results and a service
    filter must narrow them, and in no rule or setting (the document pages quote rule texts)."""
    names = {s.slug: s.name for s in content.services}
    chrome = content_words()
    texts = {d.key: shown_text(d.latest.read_text()) for d in archive.documents if d.key.service in names}
    vocabulary = {key: all_words(text) for key, text in texts.items()}
    for key in sorted(texts, key=str):
        for word in sorted(set(WORD.findall(texts[key]))):
            stem = word[:FAMILY]
            if any(w.startswith(stem) for w in chrome):
                continue
            holders = [k for k, words in vocabulary.items() if any(w.startswith(stem) for w in words)]
            services = sorted({k.service for k in holders})
            # Found in two services by the word's own start, not only its family's: Pagefind stems the
            # query ("steuerberater" to "steuerberat"), which a page holding only "steuern" does not match.
            near = word[:max(FAMILY, len(word) - 3)]
            found_in = {k.service for k in holders if any(w.startswith(near) for w in vocabulary[k])}
            if 2 <= len(services) <= 3 and len(holders) <= 4 and len(found_in) >= 2:
                return SearchCase(word, f"{key}/", key.service, names[key.service], tuple(services))
    raise AssertionError("no word of the archive's latest versions fits a search test")


@pytest.fixture(scope="module")
def search_case() -> SearchCase:
    return choose_search_case(load_content(ROOT / "content"), load_archive(ROOT / "archive"))


RESULTS = re.compile(r"^\s*(\d+) results? for ")


def settled_count(page: Page, term: str) -> int:
    """The result count the summary states, once the listed results agree with it."""
    summary = page.locator("pagefind-summary")
    expect(summary).to_have_text(re.compile(rf"(\d+ results? for|No results for) \W?{re.escape(term)}"))
    match = RESULTS.match(summary.inner_text())
    count = int(match.group(1)) if match else 0
    results = page.locator("pagefind-results li.pf-result")
    expect(results).to_have_count(count)
    links = page.locator("pagefind-results a.pf-result-link")
    for _ in range(100):  # a result loads its details once it has been in view: page through them
        if links.count() == count:
            break
        page.evaluate("window.scrollBy(0, window.innerHeight / 2); if (window.innerHeight + window.scrollY"
                      " >= document.body.scrollHeight) window.scrollTo(0, 0)")
        page.wait_for_timeout(100)
    expect(links).to_have_count(count)
    return count


def result_links(page: Page) -> list[str]:
    links = page.locator("pagefind-results a.pf-result-link").evaluate_all("as => as.map(a => a.href)")
    assert isinstance(links, list)
    return [str(link) for link in links]


def filter_group(page: Page, name: str) -> Locator:
    """A group of the search filters, opened by its summary as a reader opens it. Pagefind may render
    the pane again while results settle, closing a group just opened (or it may open one itself,
    which a blind click would close): the group is opened until it stays open."""
    group = page.locator(f'pagefind-filter-pane details[data-filter-name="{name}"]')
    for _ in range(5):
        if not group.evaluate("d => d.open"):
            group.locator("summary").click()
        page.wait_for_timeout(250)  # long enough for a pending render to close it again
        if group.evaluate("d => d.open"):
            return group
    raise AssertionError(f"the {name!r} filter group does not stay open")


def check_filter(page: Page, name: str, value: str) -> None:
    """Ticks an option of a filter group as a reader does, opening the group again if a render of the
    pane closed it between opening and ticking (seen once in CI under load: the box was hidden)."""
    for _ in range(5):
        box = filter_group(page, name).locator(f"input[type=checkbox][value={json.dumps(value)}]")
        try:
            box.check(timeout=5_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the {value!r} option of the {name!r} filter could not be ticked")


def service_option(page: Page, service_name: str) -> Locator:
    """The service filter's checkbox of a service, its group opened."""
    group = filter_group(page, "service")
    return group.locator(f"input[type=checkbox][value={json.dumps(service_name)}]")


SHARD_SIZE = 4  # documents per search shard of the sharded build: 25 documents make 6 shards


@pytest.fixture(scope="module")
def sharded_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The committed archive built with a search index split into shards, as big archives are."""
    out = tmp_path_factory.mktemp("sharded-site") / "site"
    build(ROOT / "content", ROOT / "archive", out, documents_per_shard=SHARD_SIZE)
    base_path = urlsplit(load_content(ROOT / "content").settings.base_url).path
    with serve_site(out, base_path) as site:
        yield site


RARE = re.compile(r"(?<![\w'’-])[a-z]{9,}(?![\w'’-])")


def rare_words(archive: Archive, count: int) -> list[str]:
    """Words of one document's latest text only, the first in alphabetical order."""
    holders: dict[str, set[str]] = {}
    for doc in archive.documents:
        for word in set(RARE.findall(shown_text(doc.latest.read_text()))):
            holders.setdefault(word, set()).add(str(doc.key))
    return sorted(w for w, docs in holders.items() if len(docs) == 1)[:count]


def test_a_sharded_search_lists_what_one_index_lists(new_page: NewPage, served_site: ServedSite,
                                                     sharded_site: ServedSite) -> None:
    """A shard that lacks a word answers it with its pages holding the word's longest prefix it knows
    (Pagefind); the search page keeps only the results holding it (search.js): rare words list the
    same pages from shards as from one index."""
    page, log = new_page()
    for word in rare_words(load_archive(ROOT / "archive"), 3):
        listed = []
        for site in (served_site, sharded_site):
            page.goto(site.url(f"search/?q={word}"))
            count = settled_count(page, word)
            listed.append(sorted(site.path_of(link) for link in result_links(page)))
            assert count == len(listed[-1])
        assert listed[0], f"{word!r} found nowhere"
        assert listed[1] == listed[0], (f"{word!r}: shards listed {len(listed[1])} ({listed[1][:5]}...), "
                                        f"one index {listed[0]}")
    assert not log.problems() and not log.offsite_requests(), log


@pytest.mark.parametrize("layout", ["one index", "sharded index"])
def test_search_finds_filters_and_finds_nothing(layout: str, new_page: NewPage, served_site: ServedSite,
                                                request: pytest.FixtureRequest,
                                                search_case: SearchCase) -> None:
    """Search as readers use it, with one Pagefind index and with shards merged in the browser."""
    case = search_case
    if layout == "sharded index":
        served_site = request.getfixturevalue("sharded_site")
        entries = served_site.directory.glob("pagefind/shard-*/pagefind-entry.json")
        merged = sorted(p.parent.name for p in entries)
        assert len(merged) >= 3, f"expected several search shards, found {merged}"
    page, log = new_page()
    page.goto(served_site.url("search/"))
    box = page.get_by_role("searchbox")
    expect(box).to_be_visible()

    box.fill(case.term)
    total = settled_count(page, case.term)
    links = result_links(page)
    document = served_site.url(case.doc_path)
    assert any(link.startswith(document) for link in links), (
        f"searching {case.term!r} (in the latest version of {case.doc_path}) listed no link to "
        f"{document}: {links}")
    assert len(links) == len(set(links)), f"a page listed twice: {links}"
    pages = [served_site.path_of(link).strip("/").split("/") for link in links]
    assert all(len(parts) == 3 for parts in pages), f"a page other than a version's listed: {links}"
    others = [s for s in case.services_with_term if s != case.service_slug]
    assert any(link.startswith(served_site.url(f"{s}/")) for link in links for s in others), (
        f"{case.term!r} is in the latest versions of {case.services_with_term}, results: {links}")
    if layout == "sharded index":  # results come from the main bundle and from merged shards
        shards = search.shard_count(len(load_archive(ROOT / "archive").documents), SHARD_SIZE)
        found = {search.shard_of(served_site.path_of(link), shards) for link in links}
        assert len(found) >= 2, f"results of {case.term!r} all come from one shard: {links}"

    option = service_option(page, case.service_name)
    before = page.locator("pagefind-summary").inner_text()
    option.check()
    expect(page.locator("pagefind-summary")).not_to_have_text(before)
    filtered = settled_count(page, case.term)
    links = result_links(page)
    assert 1 <= filtered < total, f"service filter {case.service_name!r}: {filtered} of {total} results"
    service = served_site.url(f"{case.service_slug}/")
    assert all(link.startswith(service) for link in links), f"outside {service}: {links}"
    assert any(link.startswith(document) for link in links), links

    option.uncheck()
    box.fill(NONSENSE)
    assert settled_count(page, NONSENSE) == 0
    expect(page.locator("pagefind-summary")).to_contain_text("No results")

    assert any(urlsplit(u).path.endswith(".pagefind") for u in log.requests), \
        f"Pagefind's WebAssembly was never loaded: {log.requests}"
    problems = log.problems()
    assert not problems, "\n".join(problems)
    offsite = log.offsite_requests()
    assert not offsite, "requests leaving 127.0.0.1:\n" + "\n".join(offsite)


@dataclass(frozen=True)
class EarlierCase:
    term: str
    version_path: str  # <service>/<doc-type>/<version-id>/: the last version that had the wording
    clause_id: str


def choose_earlier_case(archive: Archive) -> EarlierCase:
    """A word of a clause that a later version dropped (earlier.py), whose family is in no latest
    version, no content file and one document's earlier wording only."""
    chrome = content_words()
    for doc in archive.documents:
        chrome |= all_words(shown_text(doc.latest.read_text()))
    candidates: dict[str, list[tuple[str, str]]] = {}  # stem → (version path, clause id)
    for doc in archive.documents:
        clauses = [split_clauses(v.read_text()) for v in doc.versions]
        for at, (old, new) in enumerate(zip(doc.versions, doc.versions[1:], strict=False)):
            if new.technical:
                continue
            for row in superseded(clauses[at], clauses[at + 1]):
                for word in sorted(set(WORD.findall(shown_text(row.text)))):
                    if not any(w.startswith(word[:FAMILY]) for w in chrome):
                        candidates.setdefault(word, []).append((version_path(doc.key, old.id), row.clause_id))
    for word, places in sorted(candidates.items()):
        # other words of the family elsewhere would add results: the word must be its family's only
        family = [w for w in candidates if w.startswith(word[:FAMILY])]
        if family == [word] and len(places) == 1:
            return EarlierCase(word, *places[0])
    raise AssertionError("no wording dropped from the archive fits a search test")


def test_search_finds_wording_a_policy_no_longer_has(new_page: NewPage, served_site: ServedSite) -> None:
    """A word only an older version had is found there, as earlier wording: the result names it so,
    its sub-result opens that version at the clause (highlighted), and the `wording` filter tells
    current from earlier wording."""
    case = choose_earlier_case(load_archive(ROOT / "archive"))
    page, log = new_page()
    page.goto(served_site.url("search/"))
    page.get_by_role("searchbox").fill(case.term)
    assert settled_count(page, case.term) == 1
    expect(page.locator("pagefind-results .pf-result-title").first).to_contain_text(": wording gone by ")
    assert result_links(page) == [served_site.url(case.version_path)]
    anchored = page.locator(f'pagefind-results a[href$="#{case.clause_id}"]')
    expect(anchored).to_have_count(1)

    check_filter(page, "wording", "earlier")
    assert settled_count(page, case.term) == 1
    address_params(page, [("q", case.term), ("wording", "earlier")])
    narrowed, _ = new_page()  # (an option no result has is hidden: the other one is asked by address)
    narrowed.goto(served_site.url("search/") + "?" + urlencode({"q": case.term, "wording": "current"}))
    assert settled_count(narrowed, case.term) == 0

    anchored.click()
    page.wait_for_url(served_site.url(case.version_path) + f"#{case.clause_id}")
    page.wait_for_function("() => CSS.highlights.get('cited-clause') && "
                           "[...CSS.highlights.get('cited-clause')][0].toString().toLowerCase()"
                           f".includes({case.term!r})")
    problems = log.problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("layout", ["one index", "sharded index"])
def test_search_lists_text_in_force_before_earlier_wording(layout: str, new_page: NewPage,
                                                          served_site: ServedSite,
                                                          request: pytest.FixtureRequest) -> None:
    """Found by a review of the built site: "arbitration" listed eleven records of dropped wording
    before the first policy that says it now (Pagefind ranks a short record above a long page)."""
    if layout == "sharded index":
        served_site = request.getfixturevalue("sharded_site")
    page, log = new_page()
    page.goto(served_site.url("search/?q=arbitration"))
    count = settled_count(page, "arbitration")
    titles = page.locator("pagefind-results .pf-result-title").all_inner_texts()
    assert len(titles) == count
    earlier = [": wording gone by " in title for title in titles]
    assert 0 < sum(earlier) < count, titles
    assert earlier == sorted(earlier), titles  # every current result first, then the earlier ones
    # a reader who asks for earlier wording gets it alone, as before
    check_filter(page, "wording", "earlier")
    assert settled_count(page, "arbitration") == sum(earlier)
    assert not log.problems(), log.problems()


def test_search_excerpts_of_a_text_in_another_language_carry_it(new_page: NewPage,
                                                                served_site: ServedSite) -> None:
    """Telegram's terms switched to German: a search for a German word lists German excerpts marked
    `lang="de"` (a screen reader reads them in German), its latest page's and its earlier wording's;
    an English excerpt carries no language of its own (it is the page's)."""
    page, log = new_page()
    page.goto(served_site.url("search/"))
    page.get_by_role("searchbox").fill("Nutzungsbedingungen")
    count = settled_count(page, "Nutzungsbedingungen")
    assert count >= 2, count
    links = result_links(page)
    assert all("/telegram/terms-of-service/" in link for link in links), links
    excerpts = page.locator("pagefind-results .pf-result-excerpt")
    assert excerpts.evaluate_all("ps => ps.map(p => p.lang)") == ["de"] * count
    titles = page.locator("pagefind-results .pf-result-title")
    assert titles.evaluate_all("ps => ps.map(p => p.closest('[lang]').lang)") == ["en"] * count
    page.get_by_role("searchbox").fill("arbitration")
    settled_count(page, "arbitration")
    english = page.locator("pagefind-results .pf-result-excerpt").evaluate_all(
        "ps => ps.map(p => p.getAttribute('lang'))")
    assert english and set(english) == {None}, english
    assert not log.problems() and not log.offsite_requests(), log


def address_params(page: Page, wanted: list[tuple[str, str]]) -> None:
    """Wait until the page's address has these query parameters, in this order. (page.url lags
    behind history.replaceState, so the page itself is asked.)"""
    page.wait_for_function(
        "wanted => JSON.stringify([...new URLSearchParams(location.search)]) === JSON.stringify(wanted)",
        arg=[list(pair) for pair in wanted])


@pytest.mark.parametrize("layout", ["one index", "sharded index"])
def test_a_search_can_be_linked_to(layout: str, new_page: NewPage, served_site: ServedSite,
                                   request: pytest.FixtureRequest, search_case: SearchCase) -> None:
    """/search/?q=term (where the home page's search form leads) opens with that search run (shards
    merged in), the address follows what the reader types and the filters chosen, an address with
    a filter opens the search narrowed by it, and a term in the address is only ever text."""
    if layout == "sharded index":
        served_site = request.getfixturevalue("sharded_site")
    page, guard = guarded_page(new_page)
    page.goto(served_site.url(""))
    page.wait_for_load_state("networkidle")  # the icon loads after the load event: leaving aborts it
    page.get_by_role("searchbox", name="Search the texts, current and earlier").fill(search_case.term)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(served_site.url(f"search/?q={search_case.term}"))
    expect(page.get_by_role("searchbox")).to_have_value(search_case.term)
    settled_count(page, search_case.term)
    links = result_links(page)
    assert any(link.startswith(served_site.url(search_case.doc_path)) for link in links), links
    if layout == "sharded index":
        shards = search.shard_count(len(load_archive(ROOT / "archive").documents), SHARD_SIZE)
        assert len({search.shard_of(served_site.path_of(link), shards) for link in links}) >= 2, links

    total = len(links)
    option = service_option(page, search_case.service_name)
    option.check()
    narrowed = [("q", search_case.term), ("service", search_case.service_name)]
    address_params(page, narrowed)
    option.uncheck()
    address_params(page, [("q", search_case.term)])
    page.get_by_role("searchbox").fill(NONSENSE)
    assert settled_count(page, NONSENSE) == 0
    address_params(page, [("q", NONSENSE)])
    page.get_by_role("searchbox").fill("")
    address_params(page, [])
    assert_clean(guard, "search/ opened from the home page's form")

    page, guard = guarded_page(new_page)
    page.goto(served_site.url("search/") + "?" + urlencode(narrowed))
    expect(page.get_by_role("searchbox")).to_have_value(search_case.term)
    filtered = settled_count(page, search_case.term)
    links = result_links(page)
    assert 1 <= filtered < total, f"{narrowed}: {filtered} of {total} results"
    assert all(link.startswith(served_site.url(f"{search_case.service_slug}/")) for link in links), links
    expect(service_option(page, search_case.service_name)).to_be_checked()
    assert_clean(guard, "search/ opened with a filter in its address")

    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    page, guard = guarded_page(new_page)  # a page of its own: leaving one aborts its pending requests
    page.goto(served_site.url("search/") + "?" + urlencode({"q": hostile}))
    expect(page.get_by_role("searchbox")).to_have_value(hostile)
    expect(page.locator("pagefind-summary")).to_contain_text(f"for {hostile}")  # shown as text
    # (the page's own result template is a data block that never runs: it is the one allowed)
    expect(page.locator(RESULT_TEMPLATE)).to_have_count(1)
    assert page.evaluate("t => [...document.querySelectorAll('main img, main script:not([src])')]"
                         ".filter(e => !e.matches(t)).length", RESULT_TEMPLATE) == 0
    assert_clean(guard, "search/ opened with a hostile term")


@pytest.mark.parametrize(("scheme", "layout"), [("light", "one index"), ("dark", "one index"),
                                                ("light", "sharded index")])
def test_search_with_results_passes_axe(scheme: str, layout: str, new_page: NewPage, served_site: ServedSite,
                                        request: pytest.FixtureRequest, search_case: SearchCase) -> None:
    """The search page as readers use it: results listed, filters shown, a filter group open.
    (The page-kind axe test sees the widgets empty, before Pagefind renders anything.)"""
    if layout == "sharded index":
        served_site = request.getfixturevalue("sharded_site")
    page, _ = new_page(color_scheme=scheme)
    page.goto(served_site.url("search/"))
    page.get_by_role("searchbox").fill(search_case.term)
    settled_count(page, search_case.term)
    filter_group(page, "service")
    # options without results for the term are hidden: some option is shown
    expect(page.locator('pagefind-filter-pane input[name="service"]:visible').first).to_be_visible()
    page.mouse.move(0, 0)  # no hover state
    violations = axe_violations(page)
    assert not violations, f"axe, search/ with results ({scheme}):\n" + "\n".join(violations)


def test_search_excerpts_are_readable_on_a_phone(new_page: NewPage, served_site: ServedSite,
                                                search_case: SearchCase) -> None:
    # Pagefind's excerpts were 13 px text cut to one line: a few words at 360 px.
    page, _ = new_page(viewport={"width": 360, "height": 740})
    page.goto(served_site.url("search/"))
    page.get_by_role("searchbox").fill(search_case.term)
    settled_count(page, search_case.term)
    excerpts = page.locator("pagefind-results .pf-result-excerpt")
    expect(excerpts.first).not_to_be_empty()
    sizes = excerpts.evaluate_all("""es => es.map(e => {
        const style = getComputedStyle(e);
        return [parseFloat(style.fontSize), e.getBoundingClientRect().height / parseFloat(style.lineHeight)];
    })""")
    assert all(size >= 15 for size, _ in sizes), sizes
    assert all(lines < 3.1 for _, lines in sizes) and any(lines > 1.9 for _, lines in sizes), sizes


def test_search_term_is_really_in_the_archive(search_case: SearchCase, committed_site: Path) -> None:
    """The term is in what the search indexes of its document's built latest version (the page's
    search body, read from the built site, not from the archive the term was chosen from), and
    the first letter of the nonsense word is in no version."""
    archive = load_archive(ROOT / "archive")
    doc = next(d for d in archive.documents if f"{d.key}/" == search_case.doc_path)
    page = lxml.html.fromstring((committed_site / f"{doc.key}/{doc.latest.id}/index.html").read_bytes())
    body = page.xpath("//*[@data-pagefind-body]")
    assert len(body) == 1
    assert search_case.term in WORD.findall(body[0].text_content().lower())
    assert not any(NONSENSE[0] in v.read_text() for d in archive.documents for v in d.versions)


# ---- 2. changes pages and the compare form ---------------------------------------------------


def busiest_document(site_pages: dict[str, str]) -> str:
    return site_pages["history"].removesuffix("history/")


def middle_changes_page(site: Path, doc: str) -> tuple[str, int]:
    """The changes page of the version nearest the middle of `doc`'s history that has at least
    two changes, insertions and deletions; and its number of changes."""
    ids = version_ids(site / doc)
    candidates = []
    for index, version in enumerate(ids[1:], start=1):
        tree = parse(site / doc / version / "changes" / "index.html")
        changes = len(tree.cssselect(".diff-change[id]"))
        if changes >= 2 and tree.cssselect(".diff ins") and tree.cssselect(".diff del"):
            candidates.append((abs(index - len(ids) // 2), f"{doc}{version}/changes/", changes))
    assert candidates, f"no version of {doc} changes in two places with insertions and deletions"
    _, path, changes = min(candidates)
    return path, changes


def test_changes_page_keys_move_between_changes(new_page: NewPage, served_site: ServedSite,
                                                committed_site: Path, site_pages: dict[str, str]) -> None:
    path, changes = middle_changes_page(committed_site, busiest_document(site_pages))
    page, log = new_page()
    page.goto(served_site.url(path))
    expect(page.locator(".diff ins").first).to_be_visible()
    expect(page.locator(".diff del").first).to_be_visible()
    expect(page.locator(".diff-keys")).to_be_visible()  # the hint shows once the script runs

    for number in (1, 2):
        page.keyboard.press("j")
        change = page.locator(f"#change-{number}")
        expect(change).to_be_focused()
        expect(change).to_be_in_viewport()
        assert urlsplit(page.url).fragment == f"change-{number}", page.url
        top = change.evaluate("e => e.getBoundingClientRect().top")
        assert isinstance(top, int | float) and -2 <= top < 120, f"change {number} scrolled to y={top}"
    page.keyboard.press("k")
    expect(page.locator("#change-1")).to_be_focused()
    assert urlsplit(page.url).fragment == "change-1", f"{page.url} ({changes} changes)"
    # Single-letter keys can be turned off (WCAG 2.1.4; found by review), and stay off on the
    # next changes page.
    switch = page.get_by_role("checkbox", name="use these keys")
    expect(switch).to_be_checked()
    switch.uncheck()
    page.keyboard.press("j")
    assert urlsplit(page.url).fragment == "change-1", page.url
    page.goto(served_site.url(path))
    expect(page.get_by_role("checkbox", name="use these keys")).not_to_be_checked()
    page.keyboard.press("j")
    assert urlsplit(page.url).fragment == "", page.url
    page.get_by_role("checkbox", name="use these keys").check()
    page.keyboard.press("j")
    expect(page.locator("#change-1")).to_be_focused()
    assert not log.problems() and not log.offsite_requests(), log


def test_changes_page_links_move_between_changes_without_javascript(
        new_page: NewPage, served_site: ServedSite, committed_site: Path,
        site_pages: dict[str, str]) -> None:
    path, _ = middle_changes_page(committed_site, busiest_document(site_pages))
    page, log = new_page(java_script_enabled=False)
    page.goto(served_site.url(path))
    expect(page.locator(".diff-keys")).to_be_hidden()  # keys need the script: no promise without it
    expect(page.locator(".diff ins").first).to_be_visible()
    toc = page.locator("details.diff-toc")
    if toc.get_attribute("open") is None:
        toc.locator("summary").click()
    toc.locator("a[href='#change-1']").click()
    expect(page.locator("#change-1")).to_be_in_viewport()
    assert urlsplit(page.url).fragment == "change-1"
    page.locator("#change-1 .diff-change-nav a[href='#change-2']").click()
    expect(page.locator("#change-2")).to_be_in_viewport()
    assert urlsplit(page.url).fragment == "change-2"
    page.locator("#change-2 .diff-change-nav a[href='#change-1']").click()
    expect(page.locator("#change-1")).to_be_in_viewport()
    assert not log.problems() and not log.offsite_requests(), log


@dataclass(frozen=True)
class ComparePair:
    doc: str  # <service>/<doc-type>/
    old: str
    new: str
    paragraph: str  # in both texts, with a '<' in it


def choose_compare_pair(archive_dir: Path, first: str) -> ComparePair:
    """Two versions, not neighbours (no changes page compares them), of a document (the busiest
    first), whose texts differ and share a paragraph holding markup-like text (`<br>`...)."""
    folders = sorted(archive_dir.glob("*/*/versions"))
    folders.sort(key=lambda f: f.parent.relative_to(archive_dir).as_posix() + "/" != first)
    for folder in folders:
        ids = sorted(p.stem for p in folder.glob("*.md"))
        texts = {i: paragraphs((folder / f"{i}.md").read_text(encoding="utf-8")) for i in ids}
        for a, old in enumerate(ids):
            for new in ids[a + 2:]:
                if texts[old] == texts[new]:
                    continue
                shared = [p for p in texts[new] if "<" in p and p in texts[old]]
                if shared:
                    doc = folder.parent.relative_to(archive_dir).as_posix() + "/"
                    return ComparePair(doc, old, new, shared[0])
    raise AssertionError(f"no two versions in {archive_dir} share a paragraph with a '<'")


# What compare.js builds; anything else in #compare-result came from a text.
# (br: a `<br>` written in a table cell is shown as the line break it stands for, as on the changes pages)
COMPARE_TAGS = frozenset({"a", "br", "code", "dd", "del", "details", "div", "dl", "dt", "h3", "h4", "ins",
                          "p", "section", "span", "summary"})


def compare_versions(page: Page, old: str, new: str) -> None:
    expect(page.locator(".compare-needs-script")).to_be_hidden()  # the script shows the form instead
    page.locator("#compare-from").select_option(old)
    page.locator("#compare-to").select_option(new)
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".compare-status")).to_contain_text("Compared:")
    expect(page.locator("#compare-title")).to_be_visible()


def result_tags(page: Page) -> set[str]:
    tags = page.locator("#compare-result *").evaluate_all("es => es.map(e => e.localName)")
    assert isinstance(tags, list)
    return {str(t) for t in tags}


def test_compare_form_renders_texts_as_text(new_page: NewPage, served_site: ServedSite,
                                            site_pages: dict[str, str]) -> None:
    pair = choose_compare_pair(ROOT / "archive", busiest_document(site_pages))
    page, log = new_page()
    page.goto(served_site.url(f"{pair.doc}history/"))
    compare_versions(page, pair.old, pair.new)
    assert urlsplit(page.url).fragment == f"compare={pair.old}..{pair.new}"
    assert page.locator("#compare-result ins, #compare-result del").count() >= 1
    text = page.locator("#compare-result").text_content() or ""
    assert normalized(re.sub(r"<br\s*/?>", "", pair.paragraph, flags=re.I)) in normalized(text), (
        f"the paragraph {pair.paragraph[:120]!r} of both versions is not in the comparison as text")
    extra = result_tags(page) - COMPARE_TAGS
    assert not extra, f"elements made from the compared texts: {sorted(extra)}"
    fetched = sorted(urlsplit(u).path for u in log.requests if urlsplit(u).path.endswith(".md"))
    assert fetched == sorted(urlsplit(served_site.url(f"{pair.doc}{v}.md")).path
                             for v in (pair.old, pair.new)), fetched
    assert not log.problems() and not log.offsite_requests(), log
    # Chosen the wrong way round, the pair is compared in date order: the same figures, not swapped.
    figures = page.locator("#compare-result dl").first.text_content()
    compare_versions(page, pair.new, pair.old)
    assert urlsplit(page.url).fragment == f"compare={pair.old}..{pair.new}"
    assert page.locator("#compare-from").input_value() == pair.old
    assert page.locator("#compare-result dl").first.text_content() == figures


def sha256_of(archive_dir: Path, doc: str, version: str) -> str:
    return hashlib.sha256((archive_dir / doc / "versions" / f"{version}.md").read_bytes()).hexdigest()


def test_compare_form_names_the_texts_it_compares(new_page: NewPage, served_site: ServedSite,
                                                  site_pages: dict[str, str]) -> None:
    """A comparison shows, as a changes page does, its permalink and each text's id and SHA-256
    (checked against the bytes fetched), and its printed running line carries both digests."""
    pair = choose_compare_pair(ROOT / "archive", busiest_document(site_pages))
    old_sha, new_sha = (sha256_of(ROOT / "archive", pair.doc, v) for v in (pair.old, pair.new))
    page, log = new_page()
    page.goto(served_site.url(f"{pair.doc}history/"))
    compare_versions(page, pair.new, pair.old)  # the wrong way round: shown in date order
    evidence = page.locator("#compare-result dl.diff-evidence")
    rows = dict(zip(evidence.locator("dt").all_text_contents(), evidence.locator("dd").all_text_contents(),
                    strict=True))
    assert rows["Earlier version"] == f"{pair.old}, SHA-256 {old_sha}", rows
    assert rows["Later version"] == f"{pair.new}, SHA-256 {new_sha}", rows
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert rows["Permalink"] == f"{canonical}#compare={pair.old}..{pair.new}", rows
    expect(page.locator("#compare-result")).to_contain_text("checked in this browser")
    running = page.locator(".print-running").text_content() or ""
    fragment = f"#compare={pair.old}..{pair.new}"
    assert running.endswith(f"{canonical}{fragment} · SHA-256 {old_sha} → {new_sha}"), running
    assert not log.problems() and not log.offsite_requests(), log


def test_compare_form_refuses_a_text_that_does_not_match_its_digest(
        new_page: NewPage, served_site: ServedSite, site_pages: dict[str, str]) -> None:
    """A text served altered (a tampered mirror, a broken cache) is not compared: the reader is told
    which version's digest differs and pointed to the versions' own pages."""
    pair = choose_compare_pair(ROOT / "archive", busiest_document(site_pages))
    page, _ = new_page()
    altered = served_site.url(f"{pair.doc}{pair.new}.md")

    def serve_altered(route: Route) -> None:
        body = route.fetch().body()
        route.fulfill(status=200, body=body.replace(b".", b"!", 1),
                      content_type="text/markdown; charset=utf-8")

    page.route(altered, serve_altered)
    page.goto(served_site.url(f"{pair.doc}history/"))
    page.locator("#compare-from").select_option(pair.old)
    page.locator("#compare-to").select_option(pair.new)
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".compare-status")).to_have_text(
        "Not compared: a text fetched does not match the archive's SHA-256.")
    message = page.locator("#compare-result").text_content() or ""
    new_sha = sha256_of(ROOT / "archive", pair.doc, pair.new)
    label = page.locator(f"#compare-to option[value='{pair.new}']").text_content() or ""
    assert f"the version of {label.strip()} has SHA-256 " in message, message
    assert f"not the archive's {new_sha}" in message, message
    assert page.locator("#compare-result ins, #compare-result del, #compare-title").count() == 0
    running = page.locator(".print-running").text_content() or ""
    assert "#compare=" not in running and "SHA-256" not in running, running


# ---- 3. a hostile page, captured, built, served ----------------------------------------------

HOSTILE_V1 = """<!DOCTYPE html><html><head><script>window.__pwned = "head"; alert("head")</script>
<base href="javascript:alert(0)//"><meta http-equiv="refresh" content="0;url=javascript:alert(0)"></head>
<body onload="window.__pwned='body'">
<main>
<h1 onclick="window.__pwned='h1'">Hostile Terms of Service</h1>
<script>window.__pwned = "inline"; alert("inline")</script>
<p onmouseover="window.__pwned='p'">We may change these terms at any time and without notice
 &lt;img src=x onerror=alert('quote')&gt; and your continued use of the service means you accept
 the changed terms. These terms are governed by the laws of Delaware.</p>
<p>Read <a href="javascript:window.__pwned='link';alert('link')">our javascript policy</a> before you
 agree, and <a href="JaVaScRiPt&colon;alert('caps')">this one too</a>.</p>
<p>An image: <img src="x" onerror="window.__pwned='img';alert('img')" alt="hostile pixel"> and a vector:
 <svg onload="window.__pwned='svg'"><script>window.__pwned='svgscript'</script></svg> here.</p>
<iframe src="javascript:parent.__pwned='iframe'" srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>
<p>Markdown lookalike: [click me](javascript:alert(1)) and ![pixel](javascript:alert(2)) and
 <code>&lt;script&gt;window.__pwned='code'&lt;/script&gt;</code> in a code span.</p>
<p>Escaped markup as text: &lt;img src=x onerror=alert(13)&gt; and &lt;svg onload=alert(14)&gt; and
 &lt;iframe src=javascript:alert(15)&gt;.</p>
<p>Control characters, which HTML forbids in text: a vertical&#11;tab, a form&#12;feed<span hidden>h</span>,
 a\x0bnother.</p>
<pre><code>&lt;script&gt;alert("pre")&lt;/script&gt;</code></pre>
<p><a href="data:text/html,&lt;script&gt;alert(16)&lt;/script&gt;">a data link</a> and
 <a href="vbscript:msgbox(1)">a vbscript link</a> and <a href="https://evil.example/"
 onclick="alert('click')">an outside link</a>.</p>
<form action="javascript:alert(17)"><input onfocus="alert(18)" autofocus value="typed"></form>
<object data="javascript:alert(19)"></object><embed src="javascript:alert(20)">
<style>body{background:url(javascript:alert(21))}</style>
<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned='mxss'"></style></mglyph></table>
</mtext></math>
</main></body></html>"""
# The next version: another law (markup as text), and a new paragraph of hostile text.
HOSTILE_V2 = HOSTILE_V1.replace(
    "the laws of Delaware.", "the laws of &lt;b onmouseover=alert('law')&gt;Nowhere&lt;/b&gt;."
).replace(
    "<pre>", "<p>New: <code>&lt;script&gt;alert('v2')&lt;/script&gt;</code> and "
    "&lt;a href=\"javascript:alert('v2')\"&gt;a new link&lt;/a&gt; were added.</p>\n<pre>")
# Markup that the captured text shows as text (what a reader must see, inert).
SHOWN_V1 = ("[click me](javascript:alert(1))", "![pixel](javascript:alert(2))",
            "<script>window.__pwned='code'</script>", "<img src=x onerror=alert(13)>",
            "<svg onload=alert(14)>", "<iframe src=javascript:alert(15)>", '<script>alert("pre")</script>',
            "<img src=x onerror=alert('quote')>", "our javascript policy")
SHOWN_V2 = ("<b onmouseover=alert('law')>Nowhere</b>", "<script>alert('v2')</script>",
            "<a href=\"javascript:alert('v2')\">a new link</a>")
# As the Markdown source has them (changes pages and comparisons show the source).
SOURCE_V1 = tuple(s for s in SHOWN_V1 if s.startswith("<"))
SOURCE_V2 = ("<b onmouseover=alert('law')>Nowhere", "<script>alert('v2')</script>",
             "<a href=\"javascript:alert('v2')\">a new link")
# Never in the DOM of a page showing captured text; nor on* attributes or script: URLs anywhere.
FORBIDDEN = ("script, img, iframe, frame, svg, math, object, embed, style, link, meta, base, form, audio, "
             "video")
# The search page's own result template (search.html): a data block of the theme's, which never runs.
RESULT_TEMPLATE = 'pagefind-results > script[type="text/pagefind-template"]'
SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.IGNORECASE)
FAST = FetchSettings(timeout=2.0, retries=1, backoff_base=0.01)
START = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HostileSite:
    served: ServedSite
    doc: str  # acme/terms-of-service/
    versions: tuple[str, str]


def make_content(root: Path, services: dict[str, str]) -> Path:
    """content/ with the repo's settings, document types and rules, and the given services."""
    content = root / "content"
    (content / "services").mkdir(parents=True)
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copyfile(ROOT / "content" / name, content / name)
    shutil.copytree(ROOT / "content" / "rules", content / "rules")
    shutil.copytree(ROOT / "content" / "pages", content / "pages")
    for slug, declaration in services.items():
        (content / "services" / f"{slug}.yaml").write_text(declaration, encoding="utf-8")
    return content


def capture(root: Path, signer: Signer, at: datetime) -> list[CheckResult]:
    declarations = [d for s in load_content(root / "content").services for d in s.documents]
    job = Capture(root / "archive", ArchiveWriter(root / "archive", signer), FAST, clock=lambda: at)
    return run_in_thread(lambda: asyncio.run(run_capture(job, declarations)))


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory, demo_signer: Signer) -> Iterator[HostileSite]:
    root = tmp_path_factory.mktemp("hostile")
    with LocalServer() as server:
        url = server.route("/terms", html(HOSTILE_V1))
        make_content(root, {"acme": f"name: Acme\ndocuments:\n  terms-of-service:\n    url: {url}\n"
                                    "    select: ['main']\n"})
        first = capture(root, demo_signer, START)
        server.route("/terms", html(HOSTILE_V2))
        second = capture(root, demo_signer, START + timedelta(days=1))
    assert [c.outcome for c in first + second] == ["new-version", "new-version"], first + second
    assert verify_archive(root / "archive").ok
    build(root / "content", root / "archive", root / "site")
    ids = (str(first[0].version_id), str(second[0].version_id))
    with serve_site(root / "site", base_path_of(root / "content")) as served:
        yield HostileSite(served, "acme/terms-of-service/", ids)


def hostile_paths(site: HostileSite) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Page kind → (site path, the selector of its captured text, the strings it must show)."""
    one, two = site.versions
    return {
        "document": (site.doc, "main", ("<img src=x onerror=alert('quote')>",)),
        "version-1": (f"{site.doc}{one}/", ".policy-text", SHOWN_V1),
        "version-2": (f"{site.doc}{two}/", ".policy-text", SHOWN_V1 + SHOWN_V2),
        "changes": (f"{site.doc}{two}/changes/", ".diff", (*SOURCE_V2, "Delaware")),
    }


def assert_nothing_injected(page: Page, guard: Guard, region: str, where: str) -> None:
    pwned = page.evaluate("[typeof window.__pwned, typeof window.parent.__pwned]")
    assert pwned == ["undefined", "undefined"], f"{where}: a hostile script ran ({pwned})"
    assert not guard.dialogs, f"{where}: dialogs opened: {guard.dialogs}"
    forbidden = page.locator(region).first.locator(FORBIDDEN).evaluate_all(
        "(es, template) => es.filter(e => !e.matches(template)).map(e => e.outerHTML.slice(0, 120))",
        RESULT_TEMPLATE)
    assert forbidden == [], f"{where}: elements injected under {region}: {forbidden}"
    typed = page.evaluate("t => [...document.querySelectorAll('script[type]')].filter(s => !s.matches(t))"
                          ".length", RESULT_TEMPLATE)
    assert typed == 0, f"{where}: a script with a type of its own"
    scripts = page.eval_on_selector_all("script:not([type])",
                                        "ss => ss.map(s => [s.src, s.closest('head') !== null])")
    assets = page.url.split("#")[0]
    for src, in_head in scripts:
        assert src and in_head, f"{where}: a script that is not the site's own: {src or 'inline'}"
        assert urlsplit(str(src)).hostname == urlsplit(assets).hostname, f"{where}: script {src}"
    handlers = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e =>
        [...e.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
            .map(a => `${e.localName} ${a.name}=${a.value}`))""")
    assert handlers == [], f"{where}: event handler attributes: {handlers}"
    urls = page.evaluate("""() => {
        const names = ['href', 'src', 'action', 'formaction', 'data'];
        return [...document.querySelectorAll(names.map(n => `[${n}]`).join(', '))]
            .flatMap(e => names.map(n => e.getAttribute(n)).filter(v => v !== null));
    }""")
    assert isinstance(urls, list)
    scripted = [u for u in urls if SCRIPT_URL.match(str(u))]
    assert scripted == [], f"{where}: script URLs: {scripted}"


@pytest.mark.parametrize("kind", ["document", "version-1", "version-2", "changes"])
def test_hostile_page_is_inert_text(kind: str, new_page: NewPage, hostile_site: HostileSite) -> None:
    path, region, shown = hostile_paths(hostile_site)[kind]
    page, guard = guarded_page(new_page)
    response = page.goto(hostile_site.served.url(path))
    assert response is not None and response.status == 200, path
    # Give a hostile handler every chance: hover the text, click the links that lost their target.
    for block in [b for b in page.locator(f"{region} p").all() if b.is_visible()][:12]:
        block.hover()
    for link in page.locator(f"{region} a:not([href])").all():
        if link.is_visible():
            link.click()
    page.wait_for_timeout(200)  # an onerror or onload would have fired by now
    assert urlsplit(page.url).path == urlsplit(hostile_site.served.url(path)).path, page.url
    assert_nothing_injected(page, guard, region, path)
    text = page.locator(region).first.inner_text()
    missing = [s for s in shown if s not in text]
    assert not missing, f"{path}: not shown as text in {region}: {missing}"
    assert_clean(guard, path)


def test_hostile_text_found_by_search_stays_text(new_page: NewPage, hostile_site: HostileSite) -> None:
    # Pagefind's excerpts are HTML: the captured markup in them must arrive escaped.
    page, guard = guarded_page(new_page)
    page.goto(hostile_site.served.url("search/"))
    page.get_by_role("searchbox").fill("onerror")
    assert settled_count(page, "onerror") >= 1
    page.wait_for_timeout(200)  # an onerror would have fired by now
    assert_nothing_injected(page, guard, "pagefind-results", "search/")
    excerpts = page.locator("pagefind-results").inner_text()
    assert "<img src=x onerror=alert(" in excerpts, excerpts[:500]
    assert_clean(guard, "search/")


def test_hostile_site_is_valid_html(hostile_site: HostileSite) -> None:
    # Captured text must not be able to break our markup, whatever it holds.
    site = hostile_site.served.directory
    result = run_vnu([site], relative_to=site)
    assert result.returncode == 0 and not result.messages, result.messages[:20]


def test_hostile_texts_compared_as_text(new_page: NewPage, hostile_site: HostileSite) -> None:
    page, guard = guarded_page(new_page)
    page.goto(hostile_site.served.url(f"{hostile_site.doc}history/"))
    compare_versions(page, *hostile_site.versions)
    assert_nothing_injected(page, guard, "#compare-result", "history: compare")
    extra = result_tags(page) - COMPARE_TAGS
    assert not extra, f"elements made from the compared texts: {sorted(extra)}"
    text = page.locator("#compare-result").text_content() or ""  # folded stretches too
    missing = [s for s in (*SOURCE_V1, *SOURCE_V2, "Delaware") if s not in text]
    assert not missing, f"not shown as text in the comparison: {missing}"
    assert_clean(guard, "history: compare")


# ---- 4. permalinks survive a new version -----------------------------------------------------

NEW_PARAGRAPH = "We added this clause in a later version: the terms now name a new mediator."


def published_files(site: Path) -> set[str]:
    """Every file of a built site but Pagefind's bundle (its names are hashes of its contents)."""
    return {p.relative_to(site).as_posix() for p in site.rglob("*")
            if p.is_file() and p.relative_to(site).parts[0] != "pagefind"}


def is_version_page(path: str) -> bool:
    """<service>/<doc-type>/<version-id>/index.html or its changes/index.html."""
    parts = path.split("/")
    return len(parts) in (4, 5) and bool(VERSION_ID.match(parts[2])) and parts[-1] == "index.html"


def test_permalinks_survive_a_new_version(project: Path, demo_signer: Signer, new_page: NewPage) -> None:
    content, archive, site = project / "content", project / "archive", project / "site"
    build(content, archive, site)
    before = published_files(site)
    pages_before = {p: (site / p).read_bytes() for p in before if p.endswith(".html")}
    documents = load_archive(archive).documents
    doc = next(d for d in sorted(documents, key=lambda d: str(d.key)) if len(d.versions) >= 2)
    path = f"{doc.key}/"
    old_ids = [v.id for v in doc.versions]
    anchors = {i: clause_anchors(site / path / i / "index.html") for i in old_ids}
    texts = {i: policy_text_html(site / path / i / "index.html") for i in old_ids}
    assert all(anchors.values()), f"a version page of {path} has no clause anchor: {anchors}"

    latest = doc.latest
    captured = max(datetime.now(UTC), datetime.strptime(latest.captured_at, "%Y-%m-%dT%H:%M:%SZ")
                   .replace(tzinfo=UTC) + timedelta(seconds=1))
    new_id = captured.strftime("%Y-%m-%dT%H-%M-%SZ")
    old_paragraphs = latest.read_text().split("\n\n")
    middle = len(old_paragraphs) // 2
    text = "\n\n".join([*old_paragraphs[:middle], NEW_PARAGRAPH, *old_paragraphs[middle:]])
    metadata = {"captured_at": captured.strftime("%Y-%m-%dT%H:%M:%SZ"), "kind": "change",
                "technical": False, "url": latest.url, "urls": [latest.url] if latest.url else [],
                "final_url": None, "http_status": None, "source": {"name": "clausewatch test"},
                "generator": GENERATOR}
    assert ArchiveWriter(archive, demo_signer).record(NewVersion(doc.key, new_id, text, None, (), metadata))
    assert verify_archive(archive).ok

    build(content, archive, site)
    after = published_files(site)
    lost = sorted(before - after)
    assert not lost, f"{len(lost)} published files gone after adding a version: {lost[:20]}"
    assert {f"{path}{new_id}/index.html", f"{path}{new_id}/changes/index.html"} <= after - before
    for version in old_ids:
        version_page = site / path / version / "index.html"
        assert clause_anchors(version_page) == anchors[version], f"{version_page}: clause anchors changed"
        assert policy_text_html(version_page) == texts[version], f"{version_page}: its full text changed"
    new_anchors = clause_anchors(site / path / new_id / "index.html")
    assert anchors[latest.id] < new_anchors, "unchanged clauses must keep their anchors in the new version"
    # Pages of the other documents' versions are untouched, byte for byte.
    untouched = [p for p in pages_before if not p.startswith(path) and is_version_page(p)]
    assert untouched
    changed = [p for p in untouched if (site / p).read_bytes() != pages_before[p]]
    assert not changed, f"pages of other documents' versions rewritten: {changed}"

    # In the browser: the old permalink with a clause anchor lands on that clause, and the old
    # version now leads to the new one.
    anchor = sorted(anchors[latest.id])[len(anchors[latest.id]) // 2]
    with serve_site(site, base_path_of(content)) as served:
        page, log = new_page()
        page.goto(served.url(f"{path}{latest.id}/#{anchor}"))
        expect(page.locator(f"#{anchor}")).to_be_attached()
        assert page.evaluate("document.querySelector(':target')?.id") == anchor
        top = page.locator(f"#{anchor}").evaluate("e => e.getBoundingClientRect().top")
        assert isinstance(top, int | float) and -2 <= top < 200, f"#{anchor} scrolled to y={top}"
        page.locator("a[rel=next]").first.click()
        assert page.url == served.url(f"{path}{new_id}/"), page.url
        expect(page.get_by_text(NEW_PARAGRAPH)).to_be_visible()
        assert not log.problems() and not log.offsite_requests(), log


def test_compare_form_marks_a_text_in_another_language(new_page: NewPage, served_site: ServedSite) -> None:
    """Telegram switched to German: compared across the switch, the German text is marked `lang="de"`,
    the English it deleted `lang="en"`, as on the changes pages (test_language.py)."""
    doc = "telegram/terms-of-service/"
    page, log = new_page()
    page.goto(served_site.url(f"{doc}history/"))
    compare_versions(page, "2022-07-11T15-00-22Z", "2024-02-18T12-35-15Z")
    assert page.locator('#compare-result .diff-text[lang="de"]').count() >= 1
    assert page.locator('#compare-result del[lang="en"]').count() >= 1
    assert page.locator('#compare-result .diff-text[lang="de"] .diff-vh:not([lang="en"])').count() == 0
    compare_versions(page, "2024-02-18T12-35-15Z", "2026-02-18T00-53-42Z")  # German to German
    assert page.locator('#compare-result .diff-text[lang="de"]').count() >= 1
    assert page.locator("#compare-result del[lang]").count() == 0
    assert not log.problems(), log
