"""Feeds, JSON API and sitemap, built from the committed archive and content."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.api import SiteData, analyze_versions, build_api, load_site_data, unread_versions, version_json
from generator.archive import load_archive
from generator.checklog import Check
from generator.content import load_content
from generator.feeds import FEED_LIMIT, build_feeds, feed_files, version_entry, xml_bytes, xml_text
from generator.findingchanges import compare_findings
from generator.model import Archive, ArchivedDocument, DocKey, Finding
from generator.rules import load_ruleset
from generator.sitemap import build_sitemap, sitemap_files

from .conftest import ROOT

A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
VID = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z"
# Page paths of the URL contract (architecture.md), relative to the site root.
PAGE_RE = re.compile(
    rf"^(|about/|methodology/|search/|categories/|rules/|categories/{SLUG}/|rules/{SLUG}/|{SLUG}/|{SLUG}/{SLUG}/"
    rf"|{SLUG}/{SLUG}/history/|{SLUG}/{SLUG}/{VID}/|{SLUG}/{SLUG}/{VID}/changes/)$")
RAW_RE = re.compile(rf"^({SLUG})/({SLUG})/({VID})\.(md|md\.minisig|json|json\.minisig)$")
# One test worker runs this module (.ci/run: --dist loadgroup), so the committed archive is
# analysed once for its fixtures (about 25 s), not once on each worker.
pytestmark = pytest.mark.xdist_group("feeds-and-api")


@pytest.fixture(scope="module")
def data() -> SiteData:
    content = load_content(ROOT / "content")
    archive = load_archive(ROOT / "archive")
    ruleset = load_ruleset(ROOT / "content", {t.slug for t in content.document_types})
    return SiteData(content, archive, ruleset, analyze_versions(archive, ruleset),
                    unread=unread_versions(archive))


@pytest.fixture(scope="module")
def feeds(data: SiteData) -> dict[str, bytes]:
    return build_feeds(data)


@pytest.fixture(scope="module")
def api(data: SiteData) -> dict[str, bytes]:
    return build_api(data)


def _text(element: ET.Element, tag: str) -> str:
    found = element.findall(A + tag)
    assert len(found) == 1, f"exactly one atom:{tag} expected"
    return found[0].text or ""


def _contract_pages(data: SiteData) -> set[str]:
    """The page paths the URL contract gives the committed archive, counted independently."""
    pages = {"", "search/", "categories/", "rules/", *(f"{p.slug}/" for p in data.content.pages)}
    pages |= {f"categories/{c.slug}/" for c in data.ruleset.categories}
    pages |= {f"rules/{r.id}/" for r in data.ruleset.rules}
    for doc in data.archive.documents:
        pages |= {f"{doc.key.service}/", f"{doc.key}/", f"{doc.key}/history/"}
        pages |= {f"{doc.key}/{v.id}/" for v in doc.versions}
        pages |= {f"{doc.key}/{v.id}/changes/" for v in doc.versions[1:]}
    assert all(PAGE_RE.match(p) for p in pages)
    return pages


def test_every_feed_is_a_valid_atom_document(data: SiteData, feeds: dict[str, bytes]) -> None:
    base = data.base_url
    expected = {"feeds/all.xml"}
    expected |= {f"feeds/{d.key.service}.xml" for d in data.archive.documents}
    expected |= {f"feeds/{d.key}.xml" for d in data.archive.documents}
    expected |= {f"feeds/categories/{c.slug}.xml" for c in data.ruleset.categories}
    services = {d.key.service for d in data.archive.documents}
    assert set(feeds) == expected
    assert len(feeds) == 1 + len(services) + len(data.archive.documents) + len(data.ruleset.categories)
    for path, body in feeds.items():
        assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n") and body.endswith(b"\n")
        root = ET.fromstring(body)
        assert root.tag == A + "feed"
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
        assert _text(root, "id") == base + path and _text(root, "title")
        assert RFC3339_UTC.match(_text(root, "updated"))
        links = {(link.get("rel"), link.get("type")): link.get("href") for link in root.findall(A + "link")}
        assert links[("self", "application/atom+xml")] == base + path
        assert PAGE_RE.match(links[("alternate", "text/html")].removeprefix(base))  # type: ignore[union-attr]
        author = root.findall(A + "author")
        assert len(author) == 1 and _text(author[0], "name")
        entries = root.findall(A + "entry")
        ids = [_text(e, "id") for e in entries]
        assert len(ids) == len(set(ids)) and len(entries) <= FEED_LIMIT
        updated = [_text(e, "updated") for e in entries]
        assert updated == sorted(updated, reverse=True), f"{path}: entries not newest first"
        if entries:
            assert _text(root, "updated") == updated[0]
        for entry in entries:
            assert _text(entry, "title") and RFC3339_UTC.match(_text(entry, "updated"))
            assert entry.find(A + "summary").get("type") == "text"  # type: ignore[union-attr]
            alternate = [x for x in entry.findall(A + "link") if x.get("rel") == "alternate"]
            assert len(alternate) == 1 and PAGE_RE.match(alternate[0].get("href", "").removeprefix(base))
            assert all(c.get("term") for c in entry.findall(A + "category"))


def test_archive_feed_holds_the_newest_versions_labelled(data: SiteData, feeds: dict[str, bytes]) -> None:
    base = data.base_url
    versions = sorted((v for d in data.archive.documents for v in d.versions),
                      key=lambda v: (v.captured_at, str(v.key)), reverse=True)
    entries = ET.fromstring(feeds["feeds/all.xml"]).findall(A + "entry")
    assert len(entries) == FEED_LIMIT < len(versions)
    by_id = {base + f"{v.key}/{v.id}/": v for v in versions}
    assert [_text(e, "id") for e in entries] == [base + f"{v.key}/{v.id}/" for v in versions[:FEED_LIMIT]]
    kinds = set()
    for entry in entries:
        v, title = by_id[_text(entry, "id")], _text(entry, "title")
        kinds.add(v.kind)
        day = v.captured_at[:16].replace("T", " ") + " UTC"  # each title names its capture time
        suffix = {"first": f": first capture, {day}", "change": f": change captured {day}",
                  "technical": f": technical re-extraction, {day}"}
        assert title.endswith((suffix[v.kind], f": formatting change captured {day}",
                               f": failed capture, kept, {day}")), title
        assert title.startswith(data.service_name(v.key.service))
        assert v.kind in {c.get("term") for c in entry.findall(A + "category")}
        link = next(x.get("href") for x in entry.findall(A + "link") if x.get("rel") == "alternate")
        assert link == base + f"{v.key}/{v.id}/" + ("" if v.kind == "first" else "changes/")
    assert {"change", "technical"} <= kinds
    for doc in data.archive.documents:  # a document's feed has all of its versions, newest first
        feed = ET.fromstring(feeds[f"feeds/{doc.key}.xml"])
        assert [_text(e, "id") for e in feed.findall(A + "entry")] == \
            [base + f"{doc.key}/{v.id}/" for v in reversed(doc.versions)]


def test_category_feeds_list_the_versions_whose_findings_changed(data: SiteData,
                                                                 feeds: dict[str, bytes]) -> None:
    base, total = data.base_url, 0
    for category in data.ruleset.categories:
        expected: list[tuple[str, str, int, int]] = []
        for doc in data.archive.documents:
            before: set[tuple[str, str]] = set()
            read_before = True
            failed = data.failed_captures(doc)  # compared with nothing, and skipped (test_caveats.py)
            previous: list[Finding] = []
            for i, v in enumerate(doc.versions):
                if i in failed:
                    continue
                found = [f for f in data.findings_of(v) if f.category == category.slug]
                now = {(f.rule_id, f.clause_id) for f in found}
                read = data.analysed(v)  # no entry into or out of a version the rules could not read
                # a flag only reworded is no change of flags (test_findingchanges.py)
                reworded = len(compare_findings(previous, found).reworded) if before else 0
                if len(now ^ before) > 2 * reworded and read and read_before:
                    expected.append((v.captured_at, base + f"{doc.key}/{v.id}/#category-{category.slug}",
                                     len(now - before) - reworded, len(before - now) - reworded))
                before, read_before, previous = now, read, found
        expected.sort(key=lambda e: (e[0], e[1]), reverse=True)
        entries = ET.fromstring(feeds[f"feeds/categories/{category.slug}.xml"]).findall(A + "entry")
        assert [_text(e, "id") for e in entries] == [e[1] for e in expected[:FEED_LIMIT]]
        for entry, (_, _, added, removed) in zip(entries, expected, strict=False):
            assert _text(entry, "summary").startswith(f"+{added} / −{removed} findings of “{category.name}”")
            assert _text(entry, "title").endswith(f" — +{added} / −{removed} findings")
        total += len(entries)
    assert total > 100


def _hostile(data: SiteData) -> SiteData:
    """The same site, with markup in a service name and in a quoted clause."""
    services = tuple(dataclasses.replace(s, name="<script>alert(1)</script> & Co") if s.slug == "claude-ai"
                     else s for s in data.content.services)
    doc = next(d for d in data.archive.documents if str(d.key) == "claude-ai/terms-of-service")
    quote = "You agree <script>alert('x')</script> & <b>bold</b> ]]> \x01\ufffe terms."
    findings = dict(data.findings)
    findings[doc.key, doc.latest.id] = (
        Finding("acceptance-by-use", "low", "contract-by-using", "c-000000000000", quote, 0, 10),)
    return dataclasses.replace(data, content=dataclasses.replace(data.content, services=services),
                               findings=findings)


def test_captured_and_declared_text_stays_escaped_text(data: SiteData) -> None:
    hostile = _hostile(data)
    feeds = build_feeds(hostile)
    for path in ("feeds/all.xml", "feeds/claude-ai.xml", "feeds/claude-ai/terms-of-service.xml",
                 "feeds/categories/contract-by-using.xml"):
        body = feeds[path]
        assert b"<script>" not in body and b"<b>" not in body and b"\x01" not in body
        assert b"&lt;script&gt;" in body
        root = ET.fromstring(body)  # still well-formed XML
        texts = [e.text or "" for e in root.iter()]
        assert any("<script>alert(1)</script> & Co" in t for t in texts)
        assert any("You agree <script>alert('x')</script> & <b>bold</b> ]]>  terms." in t for t in texts)
    api = build_api(hostile)
    document = json.loads(api["api/claude-ai/terms-of-service.json"])
    assert document["service"]["name"] == "<script>alert(1)</script> & Co"
    assert document["latest"]["findings"][0]["quote"].startswith("You agree <script>")


def _links(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("source", "snapshots", "declared_urls", "url", "urls", "final_url"):
                continue  # addresses of the captured pages, not of this site
            yield from _links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _links(item)
    elif isinstance(value, str) and value.startswith("http"):
        yield value


def test_json_api_files_parse_link_inside_the_site_and_count_the_archive(
        data: SiteData, api: dict[str, bytes], feeds: dict[str, bytes]) -> None:
    archive, base = data.archive, data.base_url
    expected = {"api/index.json", "api/rules.json", "api/categories.json"}
    expected |= {f"api/{d.key}.json" for d in archive.documents}
    expected |= {f"api/{d.key}/{v.id}.json" for d in archive.documents for v in d.versions}
    assert set(api) == expected
    pages = _contract_pages(data)
    outputs = set(api) | set(feeds) | {"sitemap.xml", "minisign.pub"}
    for path, body in api.items():
        value = json.loads(body)
        assert body == (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
        for link in _links(value):
            assert link.startswith(base), (path, link)
            target = link.removeprefix(base).split("#")[0]
            if target in outputs or target in pages:
                continue
            raw = RAW_RE.match(target)
            assert raw, (path, link)
            assert (archive.root / raw[1] / raw[2] / "versions" / f"{raw[3]}.{raw[4]}").is_file()
    index = json.loads(api["api/index.json"])
    # Counted from the archive, not as numbers: the archive grows with every capture.
    assert index["counts"]["documents"] == len(index["documents"]) == len(archive.documents)
    assert index["counts"]["versions"] == sum(d["version_count"] for d in index["documents"]) \
        == archive.version_count
    rules, categories = json.loads(api["api/rules.json"]), json.loads(api["api/categories.json"])
    assert index["counts"]["rules"] == len(rules["rules"]) == len(data.ruleset.rules)
    declared = yaml.safe_load((ROOT / "content/rules/categories.yaml").read_text(encoding="utf-8"))
    assert index["counts"]["categories"] == len(categories["categories"]) == len(declared)
    for doc in archive.documents:
        document = json.loads(api[f"api/{doc.key}.json"])
        assert [v["id"] for v in document["versions"]] == [v.id for v in doc.versions]
        latest = data.findings_of(doc.latest)
        counts = document["latest"]["severity_counts"] or {"total": 0}  # None: not analysed
        assert counts["total"] == len(latest) == len(document["latest"]["findings"])
        for finding, expect in zip(document["latest"]["findings"], latest, strict=True):
            assert finding["link"] == f"{base}{doc.key}/{doc.latest.id}/#{expect.clause_id}"
        failed = data.failed_captures(doc)  # compared with nothing, and skipped (test_caveats.py)
        for i, v in enumerate(doc.versions):
            version = json.loads(api[f"api/{doc.key}/{v.id}.json"])
            assert version["sha256"] == v.sha256 and version["kind"] == v.kind
            before = [p for j, p in enumerate(doc.versions[:i]) if j not in failed]
            compared = data.analysed(v) and (not before or data.analysed(before[-1])) and i not in failed
            assert (version["finding_changes"] is None) == (not before or not compared)
            assert version["links"]["md"] == f"{base}{doc.key}/{v.id}.md"
    assert {"id", "title", "category", "severity", "explanation", "statutes"} <= set(rules["rules"][0])


def test_sitemap_lists_every_page_once_with_absolute_urls(data: SiteData) -> None:
    body = build_sitemap(data)
    root = ET.fromstring(body)
    assert root.tag == SM + "urlset"
    locs = [u.findtext(SM + "loc") or "" for u in root.findall(SM + "url")]
    archive = data.archive
    versions = archive.version_count
    services = {d.key.service for d in archive.documents}
    # home, search, categories, rules, the content pages (about, methodology, any added), then ...
    expected = (4 + len(data.content.pages) + len(data.ruleset.categories) + len(data.ruleset.rules)
                + len(services) + 2 * len(archive.documents) + versions + (versions - len(archive.documents)))
    assert len(locs) == len(set(locs)) == expected
    assert all(loc.startswith("https://") and loc.startswith(data.base_url) for loc in locs)
    assert {loc.removeprefix(data.base_url) for loc in locs} == _contract_pages(data)
    lastmods = {u.findtext(SM + "loc"): u.findtext(SM + "lastmod") for u in root.findall(SM + "url")}
    doc = archive.documents[0]
    first, latest = doc.versions[0], doc.latest
    assert lastmods[f"{data.base_url}{doc.key}/{first.id}/"] == first.captured_at
    assert f"{data.base_url}{doc.key}/{first.id}/changes/" not in lastmods
    assert lastmods[f"{data.base_url}{doc.key}/"] == latest.captured_at
    assert lastmods[data.base_url + "about/"] is None
    # a check after the latest version changes the document and history pages ("last checked"):
    # their lastmod says so; the version pages' do not move (found by review)
    checked = "2099-01-01T00:00:00Z"
    log = [Check(checked_at=checked, outcome="unchanged", version_id=latest.id, document=str(doc.key),
                 seq=1, prev="", generator="test")]
    later = {u.findtext(SM + "loc"): u.findtext(SM + "lastmod") for u in ET.fromstring(
        build_sitemap(dataclasses.replace(data, checks={doc.key: log}))).findall(SM + "url")}
    assert later[f"{data.base_url}{doc.key}/"] == later[f"{data.base_url}{doc.key}/history/"] == checked
    assert later[f"{data.base_url}{doc.key}/{latest.id}/"] == latest.captured_at
    assert len(build_sitemap(data, extra_pages=("faq/",)).split(b"<url>")) == expected + 2


def test_a_site_too_big_for_one_sitemap_gets_an_index_of_several(data: SiteData) -> None:
    whole = ET.fromstring(build_sitemap(data))
    listed = [(u.findtext(SM + "loc"), u.findtext(SM + "lastmod")) for u in whole.findall(SM + "url")]
    assert len(listed) > 250
    files = {path: make() for path, make in sitemap_files(data, max_urls=100).items()}
    parts = sorted(path for path in files if path != "sitemap.xml")
    assert len(parts) == -(-len(listed) // 100) and parts[0] == "sitemap-1.xml"
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == SM + "sitemapindex"
    entries = [(s.findtext(SM + "loc"), s.findtext(SM + "lastmod")) for s in index.findall(SM + "sitemap")]
    assert sorted(loc or "" for loc, _ in entries) == sorted(data.base_url + p for p in parts)  # at the root
    together = []
    for loc, lastmod in entries:
        part = ET.fromstring(files[(loc or "").removeprefix(data.base_url)])
        urls = [(u.findtext(SM + "loc"), u.findtext(SM + "lastmod")) for u in part.findall(SM + "url")]
        assert 0 < len(urls) <= 100 and lastmod == max(m for _, m in urls if m)
        together += urls
    assert together == listed  # every page once, in order, with its lastmod
    assert set(sitemap_files(data)) == {"sitemap.xml"}  # 50,000 by default: the committed archive fits one


def test_outputs_are_deterministic(data: SiteData, feeds: dict[str, bytes], api: dict[str, bytes]) -> None:
    # Same input, and the same input listed in another order, give the same bytes.
    shuffled = dataclasses.replace(data, archive=Archive(data.archive.root, data.archive.documents[::-1]))
    for other in (data, shuffled):
        assert build_feeds(other) == feeds
        assert build_api(other) == api
        assert build_sitemap(other) == build_sitemap(data)


def test_feeds_are_their_own_tree_indented(feeds: dict[str, bytes]) -> None:
    # Entries are serialized one by one and joined (so a build can keep them): the result must be
    # what ElementTree writes for the whole feed at once.
    ET.register_namespace("", A.strip("{}"))
    for path, made in feeds.items():
        root = ET.fromstring(made)
        for element in root.iter():
            element.text = element.text if element.text and element.text.strip() else None
            element.tail = None
        assert xml_bytes(root) == made, path


class _Kept:
    """An EntryStore in memory; `salt` stands for a change to the documents' digests."""

    def __init__(self) -> None:
        self.feeds: dict[str, dict[str, str]] = {}
        self.salt = ""

    def key(self, doc: ArchivedDocument, index: int) -> str:
        return f"{self.salt}{doc.key} {doc.versions[index].id}"

    def load(self, path: str) -> dict[str, str]:
        return self.feeds.get(path, {})

    def store(self, path: str, entries: Mapping[str, str]) -> None:
        self.feeds[path] = dict(entries)


def test_feed_entries_kept_by_a_build_are_joined_into_the_next(data: SiteData,
                                                               feeds: dict[str, bytes]) -> None:
    kept = _Kept()
    first = {path: make() for path, (_, make) in feed_files(data, kept=kept).items()}
    assert first == feeds
    assert set(kept.feeds) == {p for p in feeds if b"<entry>" in feeds[p]}
    category = next(p for p in sorted(kept.feeds) if p.startswith("feeds/categories/"))
    assert len(kept.feeds[category]) == feeds[category].count(b"<entry>")
    # What the store holds is what the next build joins in, not made again.
    marked = {key: f"<entry><id>kept {n}</id></entry>" for n, key in enumerate(kept.feeds[category])}
    kept.feeds[category] = dict(marked)
    again = feed_files(data, kept=kept)[category][1]()
    assert again.count(b"<entry><id>kept ") == len(marked) and b"<summary" not in again
    assert kept.feeds[category] == marked  # nothing new to keep
    # Under other digests (a new version, a rule edited) every entry is made again and the old dropped.
    kept.salt = "changed "
    assert feed_files(data, kept=kept)[category][1]() == feeds[category]
    assert all(key.startswith("changed ") for key in kept.feeds[category])
    assert len(kept.feeds[category]) == len(marked)


def test_a_service_slug_taken_by_a_feed_is_refused(data: SiteData) -> None:
    doc = data.archive.documents[0]
    key = DocKey("all", doc.key.doc_type)
    renamed = dataclasses.replace(doc, key=key, versions=tuple(dataclasses.replace(v, key=key)
                                                               for v in doc.versions))
    clash = dataclasses.replace(data, archive=Archive(data.archive.root, (renamed,)))
    with pytest.raises(ValueError, match=r"feeds/all\.xml"):
        build_feeds(clash)


def test_feed_sizes_stay_reasonable(feeds: dict[str, bytes], api: dict[str, bytes]) -> None:
    assert max(len(b) for b in feeds.values()) < 1_000_000
    assert max(len(b) for b in api.values()) < 1_000_000


def test_document_json_summarises_the_check_log(data: SiteData) -> None:
    loaded = load_site_data(data.content, data.archive, data.ruleset, findings=data.findings)
    assert loaded.checks == {}  # the committed sample archive has no check logs yet
    doc = data.archive.documents[0]
    log = [Check(checked_at="2026-01-01T00:00:00Z", outcome="unchanged", version_id=doc.latest.id,
                 sha256=doc.latest.sha256, document=str(doc.key), seq=1, prev="0" * 64, generator="t"),
           Check(checked_at="2026-01-02T00:00:00Z", outcome="blocked", reason="captcha page",
                 document=str(doc.key), seq=2, prev="1" * 64, generator="t")]
    api = build_api(dataclasses.replace(data, checks={doc.key: log}))
    checks = json.loads(api[f"api/{doc.key}.json"])["checks"]
    assert checks["count"] == 2 and checks["outcomes"] == {"blocked": 1, "unchanged": 1}
    assert checks["last"]["outcome"] == "blocked" and checks["last"]["reason"] == "captcha page"
    assert checks["last_success"] == "2026-01-01T00:00:00Z"
    assert checks["log"] == f"{data.base_url}{doc.key}/checks.jsonl"
    assert json.loads(api[f"api/{data.archive.documents[1].key}.json"])["checks"] is None


def test_feeds_and_data_say_not_analysed_and_show_no_removals_for_text_the_rules_cannot_read(
        data: SiteData, api: dict[str, bytes], feeds: dict[str, bytes]) -> None:
    # Telegram's terms are served in German since 2023-10-19 (tests/test_language.py).
    doc = json.loads(api["api/telegram/terms-of-service.json"])
    assert doc["latest"]["analysed"] is False and doc["latest"]["severity_counts"] is None
    switch = json.loads(api["api/telegram/terms-of-service/2023-10-19T00-34-30Z.json"])
    assert switch["analysed"] is False and switch["finding_changes"] is None
    switches = 0
    for path, body in feeds.items():
        for entry in ET.fromstring(body).findall(A + "entry"):
            entry_id = _text(entry, "id") or ""
            if "telegram/terms-of-service/20" in entry_id and entry_id.split("/")[-2] >= "2023-10-19":
                assert path == "feeds/all.xml" or not path.startswith("feeds/categories/"), path
                assert "Not analysed: the text is not in English" in (_text(entry, "summary") or "")
                if entry_id.endswith("/2023-10-19T00-34-30Z/"):  # the switch, named as readers say it
                    switches += 1
                    assert "The text reads as German (de), that of the version of" in _text(entry, "summary")
    assert switches > 0


def test_data_and_feeds_carry_lead_ins_urls_word_counts_and_distinct_titles(
        data: SiteData, api: dict[str, bytes], feeds: dict[str, bytes]) -> None:
    # A list item flagged as read after a lead-in that carries no finding of its own: in Google's
    # latest terms, a property of its content licence listed after "This licence is:"; and, put in
    # here so that its version's feed entry has a new one, an item of its list for business users only
    # (which the analysis skips).
    google_doc = next(d for d in data.archive.documents
                      if str(d.key) == "google-generative-ai-services/terms-of-service")
    item = "punitive damages"
    start = google_doc.latest.read_text().index(item)
    lead = "Google won't be responsible for the following liabilities:"
    flagged = Finding("excludes-liability", "medium", "limitation-of-liability", "c-0123456789ab", item,
                      start, start + len(item), lead)
    latest = (google_doc.key, google_doc.latest.id)
    findings = {**data.findings, latest: (*data.findings[latest], flagged)}
    with_lead = dataclasses.replace(data, findings=findings)
    google = json.loads(build_api(with_lead)[f"api/{google_doc.key}.json"])
    leads = [f for f in google["latest"]["findings"] if f["lead_in"]]
    licence_item = "royalty-free, which means that there are no monetary fees for this licence"
    assert sorted((f["quote"], f["lead_in"]) for f in leads) == [(item, lead),
                                                                 (licence_item, "This licence is:")]
    assert all(f["lead_in"] is None for f in google["latest"]["findings"] if f not in leads)
    grok = json.loads(api["api/grok/privacy-policy/2025-11-25T00-34-43Z.json"])
    assert grok["url"] is None and len(grok["urls"]) == 2
    for doc in data.archive.documents:
        entries = ET.fromstring(feeds[f"feeds/{doc.key}.xml"]).findall(A + "entry")
        titles = [_text(e, "title") for e in entries]
        assert len(set(titles)) == len(titles), doc.key
    summaries = " ".join(_text(e, "summary") or "" for body in feeds.values()
                         for e in ET.fromstring(body).findall(A + "entry"))
    led = build_feeds(with_lead)[f"feeds/{google_doc.key}.xml"].decode()
    assert "(an item of the list introduced by “Google won't be responsible" in led
    assert "“punitive damages”" in led
    assert "(and the list it introduces: 5 items): “You agree to indemnify" in summaries


def test_the_built_data_gives_word_counts_and_flags_formatting_only_changes(committed_site: Path) -> None:
    # Word counts come from the build's diffs (SiteData.changes), so this reads the built files.
    layout = json.loads((committed_site / "api/chatgpt/privacy-policy/2026-07-21T07-00-21Z.json").read_text())
    assert layout["formatting_only"] is True and layout["words"]["added"] == layout["words"]["removed"] == 0
    switch = json.loads((committed_site / "api/telegram/terms-of-service/2023-10-19T00-34-30Z.json")
                        .read_text())
    assert switch["words"]["removed"] > 1000 and switch["formatting_only"] is False  # into German
    # the share of words changed as a number, beside the label readers see (found by review)
    assert layout["words"]["fraction_changed"] == 0.0 and layout["words"]["percent_changed"] == "0%"
    words = switch["words"]
    assert 0.5 < words["fraction_changed"] <= 1
    label = f"{100 * words['fraction_changed']:.1f}".removesuffix(".0") + "%"
    assert words["percent_changed"] in (label, ">99.9%")
    feed = (committed_site / "feeds/chatgpt/privacy-policy.xml").read_text()
    assert "ChatGPT Privacy Policy: formatting change captured 2026-07-21 07:00 UTC" in feed


def test_feed_text_keeps_exactly_the_characters_xml_allows() -> None:
    def allowed(c: int) -> bool:  # XML 1.0, production [2] Char
        return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or c >= 0x10000

    every = "".join(map(chr, range(0x110000)))
    assert xml_text(every) == "".join(ch for ch in every if allowed(ord(ch)))


def test_feeds_and_data_compare_flags_across_a_failed_capture(data: SiteData) -> None:
    """A failed capture kept from imported history (Le Chat's redirect stub) is compared with nothing,
    and the version after it with the one before it, as on the site (test_caveats.py)."""
    doc = next(d for d in data.archive.documents if str(d.key) == "le-chat/privacy-policy")
    ids = [v.id for v in doc.versions]
    stub, after = ids.index("2025-12-15T11-34-51Z"), ids.index("2025-12-15T23-34-52Z")
    assert version_json(data, doc, stub)["finding_changes"] is None
    assert "32 bytes" in version_json(data, doc, stub)["failed_capture"]
    assert version_json(data, doc, after)["finding_changes"]["previous"] == "2025-11-11T15-33-07Z"
    assert version_json(data, doc, after)["failed_capture"] is None
    assert "This capture looks failed" in version_entry(data, doc, stub).summary
    summary = version_entry(data, doc, after).summary
    assert "compared with the version of 2025-11-11 15:33:07 UTC, the last before a failed capture" in summary
    assert "The pages tracked changed (added https://legal.mistral.ai/terms/privacy-policy" in summary
    assert version_entry(data, doc, stub).title.endswith(": failed capture, kept, 2025-12-15 11:34 UTC")
    document = json.loads(build_api(data)["api/le-chat/privacy-policy.json"])
    assert [v["id"] for v in document["versions"] if v["failed_capture"]] == ["2025-12-15T11-34-51Z"]


def test_data_and_feeds_say_which_versions_failed_verification(data: SiteData) -> None:
    # Found by review (a data consumer): the pages said "verification FAILED", the JSON and feeds
    # published a damaged text's findings as the service's change, with nothing to tell them apart.
    doc = next(d for d in data.archive.documents if str(d.key) == "claude-ai/terms-of-service")
    damaged = doc.versions[1]
    verified = {(d.key, v.id): True for d in data.archive.documents for v in d.versions}
    checked = dataclasses.replace(data, verified={**verified, (doc.key, damaged.id): False})
    assert version_json(checked, doc, 1)["verified"] is False
    assert version_json(checked, doc, 2)["verified"] is True
    assert version_json(data, doc, 2)["verified"] is None  # not checked
    assert "Verification FAILED when the site was built" in version_entry(checked, doc, 1).summary
    summary = version_entry(checked, doc, 2).summary
    assert "Verification FAILED" not in summary
    assert f"The version it is compared with, of {damaged.captured_at[:10]}" in summary
    assert "failed verification" not in version_entry(checked, doc, 3).summary
    document = json.loads(build_api(checked)[f"api/{doc.key}.json"])
    assert [v["verified"] for v in document["versions"]].count(False) == 1


def test_data_and_feeds_say_a_demo_key_signed_the_archive(data: SiteData) -> None:
    # Found by review: every page says the sample archive's key is the published demo key; the
    # JSON and feeds said nothing of it, so "signed" data read as proof of who signed it.
    for key_id, demo in (("ABC4DDD0A75B7082", True), ("0123456789ABCDEF", False)):
        signed = dataclasses.replace(data, key_id=key_id)
        api = build_api(signed)
        for path in ("api/index.json", "api/claude-ai/terms-of-service.json"):
            signing = json.loads(api[path])["signing"]
            assert signing["key_id"] == key_id and signing["demo_key"] is demo, path
            assert signing["public_key"] == signed.url("minisign.pub")
            assert (signing["notice"] is not None) is demo
        for body in build_feeds(signed).values():
            subtitle = _text(ET.fromstring(body), "subtitle")
            assert ("signed with a demo key" in subtitle) is demo


def test_json_quotes_leave_out_bidirectional_controls_as_pages_and_feeds_do(data: SiteData) -> None:
    # Found by review: a quote with U+202E ... U+202C reached the JSON as captured (reversed on screen).
    doc = next(d for d in data.archive.documents if str(d.key) == "claude-ai/terms-of-service")
    quote = "You agree to \u202enoitartibra gnidnib\u202c."
    finding = Finding("acceptance-by-use", "low", "contract-by-using", "c-000000000000", quote, 0, 10,
                      "Lead \u2067in\u2069:", ("item \u202eone",))
    findings = {**data.findings, (doc.key, doc.latest.id): (finding,)}
    shown = json.loads(build_api(dataclasses.replace(data, findings=findings))[f"api/{doc.key}.json"])
    [item] = shown["latest"]["findings"]
    assert (item["quote"], item["lead_in"], item["list_items"]) == (
        "You agree to noitartibra gnidnib.", "Lead in:", ["item one"])
