"""The built site in a real browser: no errors, nothing leaves 127.0.0.1, accessible (axe-core,
light and dark), valid HTML (Nu checker), no sideways scrolling on a phone, usable without
JavaScript, and a print stylesheet that drops the navigation."""

from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from playwright.sync_api import Page
from pypdf import PdfReader

from .browser import (
    SITE_NAV,
    ServedSite,
    axe_violations,
    declared_icons,
    follow_link,
    horizontal_overflow,
    overflowing_elements,
    run_vnu,
)
from .conftest import NewPage

PAGE_KINDS = ("home", "service", "document", "version", "history", "about", "404", "changes", "search",
              "categories", "category", "rules", "rule", "methodology")
PHONE = {"width": 360, "height": 740}


def open_page(page: Page, site: ServedSite, path: str, kind: str) -> None:
    response = page.goto(site.url(path))
    assert response is not None
    assert response.status == (404 if kind == "404" else 200), f"{path}: HTTP {response.status}"


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_page_loads_without_errors_and_stays_on_the_machine(
        kind: str, new_page: NewPage, served_site: ServedSite, site_pages: dict[str, str]) -> None:
    page, log = new_page()
    open_page(page, served_site, site_pages[kind], kind)
    expected = (served_site.url(site_pages[kind]),) if kind == "404" else ()
    problems = log.problems(expected)
    assert not problems, "\n".join(problems)
    offsite = log.offsite_requests()
    assert not offsite, "requests leaving 127.0.0.1:\n" + "\n".join(offsite)
    assert page.evaluate("document.styleSheets.length") >= 1, "no stylesheet applied"


def test_every_page_declares_its_icon(new_page: NewPage, served_site: ServedSite,
                                      site_pages: dict[str, str]) -> None:
    """Else the browser asks for /favicon.ico at the host's root (outside the base path): a 404
    and a console error on every page view, at a time that depends on the browser."""
    page, _ = new_page()
    missing = []
    for kind in PAGE_KINDS:
        open_page(page, served_site, site_pages[kind], kind)
        icons = declared_icons(page)
        if not icons:
            missing.append(site_pages[kind] or "(home)")
        for icon in icons:
            if not icon.startswith("data:"):
                response = page.request.get(icon)
                assert response.ok, f"{site_pages[kind]}: icon {icon}: HTTP {response.status}"
                assert urlsplit(icon).hostname == "127.0.0.1", f"third-party icon {icon}"
    assert not missing, "pages without <link rel=icon> (the browser requests /favicon.ico): " \
        + ", ".join(missing)


def test_axe_finds_a_violation_when_there_is_one(page: Page) -> None:
    """axe really runs (a broken injection would otherwise pass every page)."""
    page.set_content("<!DOCTYPE html><html lang='en'><title>t</title><main><button></button></main>")
    assert any(v.startswith("button-name ") for v in axe_violations(page))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_axe_finds_no_violation(kind: str, scheme: str, new_page: NewPage, served_site: ServedSite,
                                site_pages: dict[str, str]) -> None:
    page, _ = new_page(color_scheme=scheme)
    open_page(page, served_site, site_pages[kind], kind)
    assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
    violations = axe_violations(page)
    assert not violations, f"axe, {site_pages[kind]} ({scheme}):\n" + "\n".join(violations)


def test_nu_html_checker_reports_a_broken_page(tmp_path: Path) -> None:
    """The checker runs and reports errors (else a broken setup would pass every site)."""
    probe = tmp_path / "probe.html"
    probe.write_text("<!DOCTYPE html><html lang=en><title>probe</title><p><div></p>")
    result = run_vnu([probe], relative_to=tmp_path)
    assert result.returncode == 1 and any(m.startswith('"probe.html":') for m in result.messages), result


def test_nu_html_checker_accepts_the_whole_site(committed_site: Path) -> None:
    result = run_vnu([committed_site], relative_to=committed_site)
    pages = len(list(committed_site.rglob("*.html")))
    # Grouped by message, long quoted values (ids, URLs) elided: "Duplicate ID “…”" once.
    kinds = Counter(re.sub(r"“[^”]{12,}”", "“…”", re.sub(r'^"[^"]*":[\d.-]+: ', "", m))
                    for m in result.messages)
    summary = "\n".join(f"{n:4} x {text}" for text, n in kinds.most_common())
    assert result.returncode == 0 and not result.messages, (
        f"Nu HTML checker: exit status {result.returncode}, {len(result.messages)} messages on "
        f"{pages} pages ({result.seconds:.0f} s)\n{summary}\nfirst messages:\n"
        + "\n".join(result.messages[:20]))


@pytest.mark.parametrize("kind", ["document", "version", "history", "changes", "about", "methodology"])
def test_no_horizontal_scrolling_on_a_phone(kind: str, new_page: NewPage, served_site: ServedSite,
                                            site_pages: dict[str, str]) -> None:
    page, _ = new_page(viewport=PHONE)
    open_page(page, served_site, site_pages[kind], kind)
    overflow = horizontal_overflow(page)
    assert overflow <= 1, f"{site_pages[kind]} is {overflow}px too wide: {overflowing_elements(page)}"


# Changes under headings of captured text with no blank line before them (their section names
# were once up to 6,441 characters long).
LONG_SECTION_CHANGES = ("openai/terms-of-service/2023-11-14T18-30-25Z/changes/",
                        "le-chat/privacy-policy/2025-12-31T23-35-29Z/changes/",
                        "bluesky/privacy-policy/2025-08-15T00-30-30Z/changes/")


@pytest.mark.parametrize("path", LONG_SECTION_CHANGES)
def test_changes_pages_name_sections_briefly_and_fit_a_phone(path: str, new_page: NewPage,
                                                             served_site: ServedSite) -> None:
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url(path))
    names = page.locator(".diff-change h3 .diff-section, .diff-toc li").all_inner_texts()
    assert names and max(map(len, names)) < 150, max(names, key=len)[:300]
    overflow = horizontal_overflow(page)
    assert overflow <= 1, f"{path} is {overflow}px too wide: {overflowing_elements(page)}"


def test_side_by_side_changes_stack_on_a_phone(new_page: NewPage, served_site: ServedSite) -> None:
    # Two 160 px columns made a long deletion a very tall narrow strip: on a phone the previous
    # text sits above the new one, each cell named by its column.
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url(LONG_SECTION_CHANGES[0]))
    page.locator("label[for=diff-view-side]").click()
    row = page.locator(".diff-change .diff-side tr.diff-row-replace").first
    old, new = (row.locator("td").nth(i) for i in (0, 1))
    old_box, new_box = old.bounding_box(), new.bounding_box()
    assert old_box and new_box and new_box["y"] >= old_box["y"] + old_box["height"] - 1, (old_box, new_box)
    assert old_box["width"] > PHONE["width"] * 0.8, old_box
    labels = [cell.evaluate("e => getComputedStyle(e, '::before').content") for cell in (old, new)]
    assert labels == ['"Previous version"', '"This version"'], labels
    assert horizontal_overflow(page) <= 1


@pytest.mark.parametrize("kind", ["about", "methodology"])
def test_written_pages_pass_axe_on_a_phone(kind: str, new_page: NewPage, served_site: ServedSite,
                                           site_pages: dict[str, str]) -> None:
    # A command in a pre scrolled sideways at 360 px, out of reach of the keyboard.
    page, _ = new_page(viewport=PHONE)
    open_page(page, served_site, site_pages[kind], kind)
    violations = axe_violations(page)
    assert not violations, f"axe, {site_pages[kind]} at 360 px:\n" + "\n".join(violations)


def test_the_home_page_tables_fit_a_phone(new_page: NewPage, served_site: ServedSite) -> None:
    # The documents-by-severity table was 9 px too wide at 360 px: its Low column scrolled sideways
    # inside the table (a table scrolls by itself on a phone, so the page did not overflow).
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url(""))
    tables = page.locator("main table")
    assert tables.count() >= 1
    widths = tables.evaluate_all("ts => ts.map(t => [t.scrollWidth, t.clientWidth])")
    assert all(scroll <= client + 1 for scroll, client in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_long_tables_read_as_cards_on_a_phone(new_page: NewPage, served_site: ServedSite) -> None:
    # The comparison of a category squeezed its quotes to three letters a line (50,000 px tall).
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url("categories/arbitration/"))
    quote = page.locator("table.stack blockquote").first.bounding_box()
    assert quote and quote["width"] > PHONE["width"] * 0.6, quote
    label = page.locator("table.stack td[data-label=Clause]").first.evaluate(
        "e => getComputedStyle(e, '::before').content")
    assert label == '"Clause: "'
    assert horizontal_overflow(page) <= 1


def test_the_trackers_table_reads_as_cards_on_a_phone(new_page: NewPage, served_site: ServedSite) -> None:
    # Squeezed into four columns, host names broke mid-word and the category ran off the screen.
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url("openai/terms-of-service/"))
    table = page.locator("section[aria-labelledby=trackers] table")
    hosts = table.locator("td:nth-child(1)")
    assert hosts.count() >= 3
    lines = hosts.evaluate_all("""cells => cells.map(c => {
        const range = document.createRange(); range.selectNodeContents(c);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; })""")
    assert lines == [1] * hosts.count(), "host names broken across lines"
    for category in table.locator("td:nth-child(4)").all():
        box = category.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert horizontal_overflow(page) <= 1


def test_the_comparison_matrix_keeps_the_services_in_view_when_scrolled(new_page: NewPage,
                                                                        served_site: ServedSite) -> None:
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url("categories/"))
    service = page.locator(".matrix tbody th").first
    before = service.bounding_box()
    page.locator(".matrix").evaluate("table => { table.scrollLeft = 300; }")
    after = service.bounding_box()
    assert before and after and abs(after["x"] - before["x"]) <= 1 and after["width"] < PHONE["width"] / 2


def test_the_comparison_matrix_caption_stays_readable_on_a_phone(new_page: NewPage,
                                                                 served_site: ServedSite) -> None:
    # The caption was as wide as the 4,000 px matrix: one line cut off at the screen's edge, and
    # it scrolled away with the categories.
    page, _ = new_page(viewport=PHONE)
    page.goto(served_site.url("categories/"))
    caption = page.locator(".matrix caption")
    for scrolled in (0, 300):
        page.locator(".matrix").evaluate(f"table => {{ table.scrollLeft = {scrolled}; }}")
        box = caption.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (scrolled, box)


def test_no_document_or_history_page_scrolls_sideways_on_a_phone(
        new_page: NewPage, served_site: ServedSite, committed_site: Path) -> None:
    """Every document's latest version and history: captured text varies (tables, long URLs)."""
    page, _ = new_page(viewport=PHONE)
    too_wide = []
    histories = sorted(committed_site.glob("*/*/history/index.html"))
    assert len(histories) >= 20  # one per document of the committed archive
    for history in histories:
        doc = history.parent.parent.relative_to(committed_site).as_posix()
        for path in (f"{doc}/", f"{doc}/history/"):
            page.goto(served_site.url(path))
            if (overflow := horizontal_overflow(page)) > 1:
                too_wide.append(f"{path}: +{overflow}px {overflowing_elements(page, 3)}")
    # Found by review: the addresses in an "Other pages tracked" notice widened those versions'
    # pages, and the footer's addresses every page at 320 px (400% zoom, WCAG 1.4.10).
    noted = sorted(f.parent.relative_to(committed_site).as_posix() + "/"
                   for f in committed_site.glob("*/*/*/index.html")
                   if b"Other pages tracked" in f.read_bytes())
    assert len(noted) >= 3, noted
    for width, paths in ((PHONE["width"], noted), (320, ["", "rules/", sorted(p.parent.relative_to(
            committed_site).as_posix() + "/" for p in committed_site.glob("rules/*/index.html"))[0]])):
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        for path in paths:
            page.goto(served_site.url(path))
            if (overflow := horizontal_overflow(page)) > 1:
                too_wide.append(f"{path} at {width}px: +{overflow}px {overflowing_elements(page, 3)}")
    assert not too_wide, "wider than a phone's screen:\n" + "\n".join(too_wide)


def test_site_works_without_javascript(new_page: NewPage, served_site: ServedSite,
                                       site_pages: dict[str, str]) -> None:
    page, log = new_page(java_script_enabled=False)
    open_page(page, served_site, "", "home")
    for kind in ("service", "document", "history", "version"):
        follow_link(page, served_site.url(site_pages[kind]))
        assert page.locator("main h1").count() >= 1, f"{page.url}: no heading"
    version_id = site_pages["version"].rstrip("/").rsplit("/", 1)[1]
    assert version_id in page.locator("main").inner_text()
    # No dead form: the compare button, without its script, opened another pair than the one chosen
    # (found by review); the history page says how to read each version's changes instead.
    page.goto(served_site.url(site_pages["history"]))
    assert page.locator("form.compare").is_hidden()
    assert page.locator(".compare-needs-script").is_visible()
    assert not log.problems() and not log.offsite_requests(), log


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_print_stylesheet_hides_the_site_navigation(kind: str, page: Page, served_site: ServedSite,
                                                    site_pages: dict[str, str]) -> None:
    open_page(page, served_site, site_pages[kind], kind)
    navigation = page.locator(SITE_NAV)
    assert navigation.count() == 1 and navigation.is_visible()
    page.emulate_media(media="print")
    assert navigation.is_hidden()
    assert page.locator("main h1").first.is_visible()


def test_the_comparison_matrix_prints_every_column(new_page: NewPage, served_site: ServedSite) -> None:
    # Its scrolling wrapper clipped 18 of its 20 categories on paper. 688 px: an A4 sheet's width
    # inside the page margins.
    page, _ = new_page(viewport={"width": 688, "height": 1000})
    page.goto(served_site.url("categories/"))
    page.emulate_media(media="print")
    wrap = page.locator(".table-wrap").bounding_box()
    last = page.locator(".matrix thead th").last.bounding_box()
    assert wrap and last and last["x"] + last["width"] <= wrap["x"] + wrap["width"] + 1, (wrap, last)
    assert page.locator(".matrix thead th").count() >= 21


@pytest.mark.parametrize("kind", ["version", "changes"])
def test_every_printed_sheet_names_its_source(kind: str, page: Page, served_site: ServedSite,
                                              site_pages: dict[str, str]) -> None:
    # An exhibit's pages get separated: each sheet carries the permalink (and a version's SHA-256)
    # and its number.
    open_page(page, served_site, site_pages[kind], kind)
    permalink = page.locator(".cite a, .diff-evidence a").first.inner_text()
    hashes = page.locator(".evidence code.hash, .diff-evidence code.hash").all_inner_texts()
    assert len(set(hashes)) == (1 if kind == "version" else 2), hashes
    sheets = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True))).pages
    assert len(sheets) >= 2, f"{site_pages[kind]}: too short to show a second sheet"
    for number, sheet in enumerate(sheets, 1):
        text = sheet.extract_text()
        joined = "".join(text.split())  # a long URL wraps anywhere
        assert permalink in joined, (number, text[:300])
        # a changes page: both versions' hashes (found by review: only sheet 1 named them)
        assert all(h in joined for h in hashes), (number, text[:300])
        assert f"page {number} of {len(sheets)}" in " ".join(text.split())
    if kind == "version":  # the evidence's files print with their addresses (found by review)
        printed = "".join("".join(sheet.extract_text().split()) for sheet in sheets)
        addresses = page.locator(".evidence a[data-print-url]").evaluate_all(
            "links => links.map(a => a.dataset.printUrl)")
        assert len(addresses) == 4 and all(a.startswith("https://") and a in printed for a in addresses)


@pytest.mark.parametrize("kind", ["version", "changes"])
def test_the_printed_band_keeps_clear_of_the_text_at_its_longest(kind: str, new_page: NewPage,
                                                                 served_site: ServedSite,
                                                                 site_pages: dict[str, str]) -> None:
    # Found by review: the band that heads each sheet ran to four lines on some pages, over the
    # first line of text of every sheet after the first (the body keeps a fixed room for it).
    bands = [lxml.html.parse(str(f)).xpath("string(//p[@class='print-running'])")
             for f in served_site.directory.glob("*/*/*/changes/index.html" if kind == "changes"
                                                 else "*/*/*/index.html")]
    longest = max(bands, key=len) + " · cited clause #c-0123456789ab"
    page, _ = new_page(viewport={"width": 688, "height": 1000})  # an A4 sheet inside its margins
    open_page(page, served_site, site_pages[kind], kind)
    page.emulate_media(media="print")
    room, bottom = page.evaluate("""text => {
        const band = document.querySelector(".print-running");
        band.textContent = text;
        return [parseFloat(getComputedStyle(document.body).paddingTop), band.getBoundingClientRect().bottom];
    }""", longest)
    assert bottom <= room, (bottom, room, longest)


def test_a_printed_diff_shows_its_unchanged_text_unfolded(page: Page, served_site: ServedSite,
                                                          site_pages: dict[str, str]) -> None:
    # Found by review: the folds printed closed ("6 unchanged paragraphs"), the text not on paper.
    open_page(page, served_site, site_pages["changes"], "changes")
    folded = page.locator("details.diff-gap")
    assert folded.count() > 0 and not folded.first.evaluate("d => d.open")
    hidden = folded.first.evaluate("""d => {  // a paragraph of the fold, not its summary
        const walk = document.createTreeWalker(d, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode())
            if (!n.parentElement.closest("summary") && n.textContent.trim().split(/\\s+/).length >= 6)
                return n.textContent;
        return "";
    }""")
    words = " ".join(hidden.split()[:6])
    assert len(words.split()) == 6 and words not in " ".join(page.locator("body").inner_text().split())
    text = " ".join(" ".join(s.extract_text() for s in PdfReader(io.BytesIO(
        page.pdf(format="A4", prefer_css_page_size=True))).pages).split())
    assert words in text, words
    assert not folded.first.evaluate("d => d.open")  # folded again on screen


def test_a_sheet_printed_from_a_clause_link_names_the_clause(page: Page, served_site: ServedSite) -> None:
    """Found by a journalist's review: an exhibit printed from a clause permalink named only the
    version; the clause's anchor was on no sheet."""
    from generator.archive import load_archive
    from generator.clauses import split_clauses

    from .conftest import ROOT

    doc = next(d for d in load_archive(ROOT / "archive").documents if str(d.key) == "openai/terms-of-service")
    cited = next(c for c in split_clauses(doc.latest.read_text()) if "applicable taxes" in c.text)
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/#{cited.id}"))
    page.wait_for_function("id => document.querySelector('.print-running').textContent.includes(id)",
                           arg=cited.id)
    sheets = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True))).pages
    assert len(sheets) >= 2
    for number, sheet in enumerate(sheets, 1):
        assert f"citedclause#{cited.id}" in "".join(sheet.extract_text().split()), number
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/"))
    assert "cited clause" not in str(page.locator(".print-running").text_content(timeout=1000))


def test_a_quote_is_checked_against_the_version_in_the_browser(new_page: NewPage,
                                                                served_site: ServedSite) -> None:
    # A journalist pastes a quote as it reached them (curly quotes, other spacing and case): it is
    # found in its clause; a quote with one word changed is not found.
    from generator.archive import load_archive
    from generator.clauses import split_clauses

    from .conftest import ROOT

    doc = next(d for d in load_archive(ROOT / "archive").documents if str(d.key) == "openai/terms-of-service")
    expected = next(c.id for c in split_clauses(doc.latest.read_text()) if "applicable taxes" in c.text)
    page, log = new_page()
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/"))
    form = page.locator("[data-quote-check]")
    assert form.is_visible()
    status = form.locator("[role=status]")

    def check(quote: str) -> str:
        form.locator("textarea").fill(quote)
        form.locator("button").click()
        return status.inner_text()

    assert check("You’re   responsible for all applicable TAXES,\nand we’ll charge tax when required.") == \
        f"Found in this version, in the clause {expected}."
    assert status.locator("a").get_attribute("href") == f"#{expected}"
    changed = "You're responsible for all applicable fees, and we'll charge tax when required."
    assert check(changed).startswith("Not found in this version.")
    # Whole words only: a quote that starts or ends inside a word of the text is not in it (a quote of
    # "refundable" out of "non-refundable" would say the opposite).
    in_words = ("Not found in this version. Every word must match, whole; spacing, quote marks, dashes and "
                "capitals are ignored. These letters occur only as part of longer words.")
    for cut in ("ou're responsible for all applicable taxes", "You're responsible for all applicable tax"):
        assert check(cut) == in_words
    whole = check("responsible for all applicable taxes,")
    assert whole == f"Found in this version, in the clause {expected}."
    # A finding's label inside the text is not part of the text it labels, nor of what a reader copies.
    assert check("[high: Disputes are sent to arbitration instead of a court]").startswith("Not found")
    assert page.locator(".policy-text .finding-label").count() > 0
    copied = page.evaluate("""() => { const range = document.createRange();
        range.selectNodeContents(document.querySelector('.policy-text'));
        getSelection().removeAllRanges(); getSelection().addRange(range);
        return getSelection().toString(); }""")
    assert "applicable taxes" in copied and "[high:" not in copied and "[medium:" not in copied
    assert not log.problems(())
    # A sentence that occurs twice has a numbered anchor the second time (c-…-2): a quote that starts
    # there is found in that clause, not in the one before it.
    plain = re.compile(r"[\w ,.’'()-]{30,}")
    repeat = next((doc, clauses[i], clauses[i + 1]) for doc in load_archive(ROOT / "archive").documents
                  for clauses in [split_clauses(doc.latest.read_text())] for i in range(len(clauses) - 1)
                  if re.fullmatch(r"c-[0-9a-f]{12}-\d+", clauses[i].id) and plain.fullmatch(clauses[i].text)
                  and plain.fullmatch(clauses[i + 1].text)
                  and [(a.text, b.text) for a, b in itertools.pairwise(clauses)].count(
                      (clauses[i].text, clauses[i + 1].text)) == 1)
    doc, twice, after = repeat
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/"))
    assert check(f"{twice.text} {after.text}") == f"Found in this version, in the clause {twice.id}."
    assert status.locator("a").get_attribute("href") == f"#{twice.id}"
    assert not log.problems(())
    off, _ = new_page(java_script_enabled=False)
    off.goto(served_site.url(f"{doc.key}/{doc.latest.id}/"))
    assert not off.locator("[data-quote-check]").is_visible()  # no dead form without JavaScript


def test_a_clause_permalink_highlights_its_clause(new_page: NewPage, served_site: ServedSite) -> None:
    # The anchor is an empty marker before the clause: the reader must see which sentence is meant.
    from generator.archive import load_archive
    from generator.clauses import split_clauses

    from .conftest import ROOT

    doc = next(d for d in load_archive(ROOT / "archive").documents if str(d.key) == "openai/terms-of-service")
    clauses = [c for c in split_clauses(doc.latest.read_text()) if c.kind == "sentence"]
    cited = next(c for c in clauses if "applicable taxes" in c.text)
    page, log = new_page()
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/#{cited.id}"))
    highlighted = page.evaluate("""() => {
        const h = CSS.highlights.get("cited-clause");
        return h ? [...h].map(r => r.toString()).join("") : null;
    }""")
    assert highlighted is not None and " ".join(str(highlighted).split()) == cited.text
    marker = page.evaluate(f"getComputedStyle(document.getElementById('{cited.id}'), '::before').content")
    assert "▶" in marker
    other = next(c for c in clauses if c.id != cited.id and "refund" in c.text.lower())
    page.evaluate(f"location.hash = '{other.id}'")
    page.wait_for_function("() => CSS.highlights.get('cited-clause') && "
                           f"[...CSS.highlights.get('cited-clause')][0].toString().includes({other.text[:20]!r})")
    assert not log.problems(())


def test_a_clause_link_made_for_another_version_says_the_clause_is_not_there(new_page: NewPage,
                                                                           served_site: ServedSite) -> None:
    """Found by a journalist's review: Claude's "We will not train our models on any Materials that
    are not publicly available" (gone since 2025-08-29), opened on a later version, left the reader
    at the top of the page with no word."""
    from generator.archive import load_archive
    from generator.clauses import split_clauses

    from .conftest import ROOT

    key = "claude-ai/terms-of-service"
    doc = next(d for d in load_archive(ROOT / "archive").documents if str(d.key) == key)
    latest = {c.id for c in split_clauses(doc.latest.read_text())}
    gone = next(c for v in doc.versions for c in split_clauses(v.read_text())
                if c.kind == "sentence" and c.id not in latest)
    page, log = new_page()
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/#{gone.id}"))
    notice = page.locator("#clause-missing")
    assert notice.is_visible() and f"#{gone.id}" in notice.inner_text()
    assert str(notice.get_by_role("link").get_attribute("href", timeout=1000)).endswith(f"/{key}/history/")
    kept = next(c for c in split_clauses(doc.latest.read_text()) if c.kind == "sentence")
    page.evaluate(f"location.hash = '{kept.id}'")
    page.wait_for_function("() => document.getElementById('clause-missing').hidden")
    page.goto(served_site.url(f"{doc.key}/{doc.latest.id}/#%E0%A4%A"))  # a malformed escape: no error
    assert not notice.is_visible()
    assert not log.problems(())


def test_a_flagged_clause_permalink_is_marked_like_any_cited_clause(new_page: NewPage,
                                                                    served_site: ServedSite) -> None:
    # A flagged clause's anchor is its own <mark>: it got the outline only, no ▶ nor highlight.
    page, log = new_page()
    page.goto(served_site.url("openai/terms-of-service/2024-02-10T00-30-28Z/#c-f0859300f7fb"))
    flagged = page.locator("#c-f0859300f7fb")
    assert flagged.evaluate("e => e.matches('.policy-text mark.finding')")
    assert "▶" in flagged.evaluate("e => getComputedStyle(e, '::before').content")
    highlighted = page.evaluate("""() => {
        const h = CSS.highlights.get("cited-clause");
        return h ? [...h].map(r => r.toString()).join("") : null;
    }""")
    label = flagged.locator(".finding-label").inner_text()
    assert highlighted is not None and " ".join(highlighted.split()) == " ".join(
        flagged.inner_text().replace(label, "", 1).split()), highlighted
    assert not log.problems(())


@pytest.mark.parametrize("target", ["c-f0859300f7fb", "c-bf632b0c64c0"])  # a flagged clause, a plain one
def test_a_clause_link_lands_below_the_top_with_its_outline_in_view(target: str, new_page: NewPage,
                                                                   served_site: ServedSite) -> None:
    page, _ = new_page()
    page.goto(served_site.url(f"openai/terms-of-service/2024-02-10T00-30-28Z/#{target}"))
    box = page.locator(f"#{target}").bounding_box()
    assert box and box["y"] >= 100, box  # what precedes it, and the outline, stay in view

