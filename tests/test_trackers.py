"""Third parties and trackers found in a page's raw HTML (generator/trackers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from generator.rawpages import merge_trackers
from generator.trackers import (
    TRACKERDB_ATTRIBUTION,
    PageTrackers,
    Tracker,
    TrackerDB,
    find_trackers,
    host_of,
    load_trackerdb,
    parse_trackerdb,
    registrable_domain,
    same_company,
    third_party_domains,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "generator" / "data" / "trackerdb"

PAGE = "https://www.example.com/legal/privacy"

SYNTHETIC = """<!doctype html>
<html><head>
  <link rel="preconnect" href="https://fonts.gstatic.example">
  <link rel="dns-prefetch" href="//dns.prefetch.example">
  <link rel="stylesheet" href="https://cdn.styles.example/site.css">
  <link rel="preload" as="script" href="https://preload.example/a.js">
  <link rel="canonical" href="https://canonical.example/privacy">
  <link rel="alternate" hreflang="fr" href="https://alternate.example/fr">
  <script src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
  <script src="/static/app.js"></script>
  <script src="//protocol-relative.example/lib.js"></script>
  <script src="https://static.example.com/same-site.js"></script>
  <style>@import "https://imported.example/x.css";
         body { background: url('https://bg.example/b.png') }</style>
</head><body>
  <noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-XXXX"></iframe></noscript>
  <img src="https://www.facebook.com/tr?id=1&amp;ev=PageView" width="1" height="1">
  <img srcset="https://img1.example/a.png 1x, https://img2.example/a.png 2x" src="images/local.png">
  <div style="background-image: url(https://inline-style.example/p.gif)"></div>
  <form action="https://forms.hubspot.com/submit"><input type="image" src="https://button.example/b.png"></form>
  <a href="https://www.twitter.com/example">a plain link loads nothing</a>
  <a href="/about" ping="https://ping.example/track">pinged link</a>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <script src="javascript:alert(1)"></script>
  <iframe src="about:blank"></iframe>
  <form action="mailto:privacy@example.com"></form>
  <iframe src="https://player.vimeo.com/video/1"></iframe>
</body></html>
"""


# --- third parties ------------------------------------------------------------------------------

def test_third_party_domains_of_a_synthetic_page() -> None:
    assert third_party_domains(SYNTHETIC, PAGE) == [
        "bg.example",
        "button.example",
        "cdn.styles.example",
        "dns.prefetch.example",
        "fonts.gstatic.example",
        "forms.hubspot.com",
        "img1.example",
        "img2.example",
        "imported.example",
        "inline-style.example",
        "ping.example",
        "player.vimeo.com",
        "preload.example",
        "protocol-relative.example",
        "www.facebook.com",
        "www.googletagmanager.com",
    ]


def test_same_site_subdomains_and_relative_urls_are_first_party() -> None:
    html = """<script src="https://cdn.example.com/a.js"></script><img src="../img/x.png">
              <link rel="stylesheet" href="//EXAMPLE.COM./s.css"><script src="app.js"></script>"""
    assert third_party_domains(html, "https://www.example.com/a/b") == []


def test_base_href_resolves_relative_urls() -> None:
    html = '<head><base href="https://cdn.other.org/assets/"></head><body><img src="x.png"></body>'
    assert third_party_domains(html, "https://www.example.com/") == ["cdn.other.org"]


def test_public_suffix_rules_decide_the_site() -> None:
    html = """<script src="https://static.bbc.co.uk/a.js"></script>
              <script src="https://www.other.co.uk/b.js"></script>
              <script src="https://someone.github.io/c.js"></script>"""
    assert third_party_domains(html, "https://www.bbc.co.uk/privacy") == [
        "someone.github.io", "www.other.co.uk"]
    # github.io is a public suffix: another user's pages are another site.
    assert third_party_domains(html, "https://me.github.io/policy") == [
        "someone.github.io", "static.bbc.co.uk", "www.other.co.uk"]


def test_registrable_domain() -> None:
    assert registrable_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("a.b.example.com") == "example.com"
    assert registrable_domain("d1234.cloudfront.net") == "d1234.cloudfront.net"  # private PSL section
    assert registrable_domain("co.uk") == "co.uk"
    assert registrable_domain("192.0.2.1") == "192.0.2.1"


def test_host_of_normalizes_and_refuses() -> None:
    assert host_of("https://WWW.Example.COM./x") == "www.example.com"
    assert host_of("https://bücher.example/") == "xn--bcher-kva.example"
    assert host_of("http://[2001:db8::1]:8080/") == "2001:db8::1"
    for url in ("data:text/plain,hi", "javascript:void(0)", "mailto:a@b.c", "about:blank", "blob:https://a.b/x",
                "ftp://files.example/x", "http://[::1", "https://", "https://exa mple.com/", "/relative"):
        assert host_of(url) is None, url


def test_ip_addresses_and_idn_hosts_are_listed() -> None:
    html = '<img src="http://192.0.2.7/p.gif"><script src="https://tracker.bücher.example/t.js"></script>'
    assert third_party_domains(html, PAGE) == ["192.0.2.7", "tracker.xn--bcher-kva.example"]


def test_without_a_page_url_every_absolute_host_is_third_party() -> None:
    html = '<script src="https://a.example/x.js"></script><img src="relative.png">'
    assert third_party_domains(html, "") == ["a.example"]


# --- matching -------------------------------------------------------------------------------------

TINY_DB = parse_trackerdb({
    "source": {"version": "test"},
    "categories": {"advertising": {"name": "Advertising"}, "hosting": {"name": "Hosting"}},
    "organizations": {"acme": {"name": "Acme Corp"}, "amazon": {"name": "Amazon"}},
    "patterns": {
        "acme_ads": {"name": "Acme Ads", "organization": "acme", "category": "advertising"},
        "cloudfront": {"name": "Amazon CloudFront", "organization": "amazon", "category": "hosting"},
        "acme_cdn": {"name": "Acme CDN", "organization": "acme", "category": "hosting"},
        "orphan": {"name": "Orphan", "organization": None, "category": None},
    },
    "domains": {"ads.acme.example": "acme_ads", "cloudfront.net": "cloudfront",
                "d1abc.cloudfront.net": "acme_cdn", "orphan.example": "orphan"},
})


def test_match_is_exact_or_parent_domain_longest_first() -> None:
    html = """<script src="https://x.ads.acme.example/a.js"></script>
              <script src="https://d1abc.cloudfront.net/b.js"></script>
              <script src="https://d9zzz.cloudfront.net/c.js"></script>
              <script src="https://acme.example/d.js"></script>
              <img src="https://orphan.example/p.gif">"""
    script = ("script",)
    assert find_trackers(html, PAGE, TINY_DB) == [
        Tracker("acme.example", None, None, None, None, script),
        Tracker("d1abc.cloudfront.net", "d1abc.cloudfront.net", "Acme CDN", "Acme Corp", "hosting", script),
        Tracker("d9zzz.cloudfront.net", "cloudfront.net", "Amazon CloudFront", "Amazon", "hosting", script),
        Tracker("orphan.example", "orphan.example", "Orphan", None, None, ("img",)),
        Tracker("x.ads.acme.example", "ads.acme.example", "Acme Ads", "Acme Corp", "advertising", script),
    ]
    assert TINY_DB.match("ads.acme.example.evil.test") is None
    assert TINY_DB.match("notads.acme.example") is None


@pytest.mark.parametrize(("company", "operator", "same"), [
    ("Google", "Google", True), ("GitHub, Inc.", "GitHub", True), ("OpenAI", "OpenAI LLC", True),
    ("Google", "Alphabet", False), ("Amazon", "Amazon Web Services", False), ("Co.", "Inc.", False),
])
def test_same_company_ignores_legal_forms_only(company: str, operator: str, same: bool) -> None:
    assert same_company(company, operator) is same


def test_hosts_of_the_operator_itself_are_set_apart() -> None:
    own = Tracker("www.gstatic.com", "gstatic.com", "Google Static", "Google", "cdn")
    other = Tracker("static.cloudflareinsights.com", "cloudflareinsights.com", "Cloudflare Insights",
                    "Cloudflare", "site_analytics")
    unknown = Tracker("api.example.net", None, None, None, None)
    page = PageTrackers((own, other, unknown))
    assert page.by_operator("Google") == ((own,), (other, unknown))
    assert page.by_operator("Mozilla") == ((), (own, other, unknown))
    assert PageTrackers(None, "no raw page").by_operator("Google") == ((), ())


def test_find_trackers_with_the_vendored_database() -> None:
    trackers = {t.domain: t for t in find_trackers(SYNTHETIC, PAGE)}
    assert list(trackers) == third_party_domains(SYNTHETIC, PAGE)
    gtm = trackers["www.googletagmanager.com"]
    assert (gtm.matched, gtm.company) == ("googletagmanager.com", "Google")
    assert gtm.category and gtm.via == ("iframe", "script")
    pixel = trackers["www.facebook.com"]
    assert pixel.company == "Meta" and pixel.via == ("img",) and pixel.known
    assert trackers["player.vimeo.com"].category == "audio_video_player"
    assert trackers["fonts.gstatic.example"] == Tracker("fonts.gstatic.example", None, None, None, None,
                                                        ("link:preconnect",))
    assert not trackers["fonts.gstatic.example"].known


def test_google_analytics_is_site_analytics() -> None:
    html = '<script async src="https://www.google-analytics.com/analytics.js"></script>'
    [ga] = find_trackers(html, PAGE)
    assert (ga.name, ga.company, ga.category) == ("Google Analytics", "Google", "site_analytics")


# --- inline scripts -------------------------------------------------------------------------------

GTM_SNIPPET = """<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-XXXX');</script>"""


def test_inline_loader_snippets_are_found() -> None:
    [gtm] = find_trackers(GTM_SNIPPET, PAGE)
    assert (gtm.domain, gtm.company, gtm.via) == ("www.googletagmanager.com", "Google", ("inline-script",))
    assert find_trackers(GTM_SNIPPET, PAGE, inline_scripts=False) == []
    assert third_party_domains(GTM_SNIPPET, PAGE) == []  # markup only


def test_urls_merely_mentioned_in_scripts_are_not_trackers() -> None:
    html = r"""
    <script>self.__next_f.push([1,"{\"href\":\"https://www.facebook.com/privacy\"}"])</script>
    <script>window.DATA = {"link": "https://www.youtube.com/watch", "list": ["https://x.com/a"]};</script>
    <script>var u = 'https:\/\/www.linkedin.com\/company';</script>
    <script>
      // createScriptTag('https://www.googleoptimize.com/optimize.js?id=OPT-1');
      load('https://unknown-loader.example/x.js');
    </script>
    <script type="application/ld+json">{"sameAs": "https://www.instagram.com/example"}</script>
    <script type="application/json">{"src": "https://connect.facebook.net/x.js"}</script>"""
    assert find_trackers(html, PAGE) == []


# --- hostile input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("html", [
    "", "   \n", "\x00\x00\x00", "<", "<<<>>><><!--", "<html><body><img src=", "\ud800 lone surrogate",
    '<?xml version="1.0" encoding="ISO-8859-1"?><html><script src="https://a.example/x.js"></script></html>',
    "<svg><image href='https://svg.example/i.png'/></svg>" * 3,
    '<img src="http://[::1"><img src="https://exa mple.com/"><img src="http://a.example:99999999/">',
    '<img srcset=",,, ,">' + "<div>" * 5000 + "</div>" * 10,
    '<link rel="preconnect" href="' + "a" * 100_000 + '.example">',
    "\ufeff<script src='https://bom.example/x.js'></script>",
    b"\xff\xfe<html>\x80\x81".decode("latin-1"),
])
def test_garbage_does_not_crash(html: str) -> None:
    domains = third_party_domains(html, PAGE)
    trackers = find_trackers(html, PAGE)
    assert [t.domain for t in trackers] == sorted(t.domain for t in trackers)
    assert set(domains) <= {t.domain for t in trackers}
    # a page address that does not parse: still a sorted list, nothing raised
    odd = [t.domain for t in find_trackers(html, "not a url")]
    assert odd == sorted(odd) and third_party_domains(html, "http://[broken") == sorted(
        third_party_domains(html, "http://[broken"))


def test_odd_but_valid_documents_still_parse() -> None:
    xml_declared = ('<?xml version="1.0" encoding="ISO-8859-1"?><html>'
                    '<script src="https://a.example/x.js"></script></html>')
    assert third_party_domains(xml_declared, PAGE) == ["a.example"]
    with_bom = "\ufeff<script src='https://bom.example/x.js'></script>"
    assert third_party_domains(with_bom, PAGE) == ["bom.example"]
    assert third_party_domains("\ud800<img src='https://s.example/x.gif'>", PAGE) == ["s.example"]
    head_pixel = '<head><noscript><img src="https://www.facebook.com/tr?id=1"></noscript></head>'
    assert [t.company for t in find_trackers(head_pixel, PAGE)] == ["Meta"]


def test_output_is_deterministic_and_sorted() -> None:
    first = find_trackers(SYNTHETIC, PAGE)
    assert first == find_trackers(SYNTHETIC, PAGE)
    assert [t.domain for t in first] == sorted(t.domain for t in first)
    assert all(list(t.via) == sorted(t.via) for t in first)
    with pytest.raises(AttributeError):
        first[0].domain = "changed"  # type: ignore[misc]


def test_trackers_survive_the_build_cache_and_merge_over_pages() -> None:
    found = find_trackers(GTM_SNIPPET, PAGE)
    assert [t.to_dict() for t in found] == [
        {"domain": "www.googletagmanager.com", "matched": "googletagmanager.com", "name": "Google Tag",
         "company": "Google", "category": "advertising", "via": ["inline-script"]}]
    assert [Tracker.from_dict(json.loads(json.dumps(t.to_dict()))) for t in found] == found
    other = find_trackers('<img src="https://a.example/p.gif">', PAGE)
    merged = merge_trackers([found, other, found])  # a capture of three pages
    assert [t.domain for t in merged] == ["a.example", "www.googletagmanager.com"]


# --- the vendored database -------------------------------------------------------------------------

def test_vendored_database_is_small_sorted_and_consistent() -> None:
    path = DATA_DIR / "trackerdb.json"
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 2_000_000
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert set(data["domains"].values()) <= set(data["patterns"])
    assert {p["category"] for p in data["patterns"].values()} <= set(data["categories"]) | {None}
    assert {p["organization"] for p in data["patterns"].values()} <= set(data["organizations"]) | {None}
    db = load_trackerdb()
    assert isinstance(db, TrackerDB) and db is load_trackerdb()
    assert len(db.domains) > 4000 and db.version == data["source"]["version"]


def test_vendored_database_carries_its_licence_and_source() -> None:
    licence = (DATA_DIR / "LICENSE").read_text(encoding="utf-8")
    source = (DATA_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert "CC-BY-NC-SA-4.0" in licence and "Ghostery" in licence
    assert load_trackerdb().version in source and "@ghostery/trackerdb" in source
    assert "CC BY-NC-SA 4.0" in TRACKERDB_ATTRIBUTION


# --- real snapshots from the sample corpus ---------------------------------------------------------

def snapshot(corpus: Path, key: str, stored_as: str) -> tuple[str, str]:
    """The raw HTML of one stored snapshot and the URL it was fetched from."""
    meta = yaml.safe_load((corpus / key / "metadata.yaml").read_text(encoding="utf-8"))
    for version in meta["versions"]:
        urls = (version.get("declaration") or {}).get("urls") or []
        for index, snap in enumerate(version.get("snapshots") or []):
            if snap.get("stored_as") == stored_as:
                html = (corpus / key / stored_as).read_text(encoding="utf-8", errors="replace")
                return html, urls[index]
    raise AssertionError(f"{key}/{stored_as} not in metadata.yaml")


def test_wordtune_terms_page_loads_google_tag_manager_and_intercom(corpus: Path) -> None:
    html, url = snapshot(corpus, "wordtune/terms-of-service", "snapshots/2023-10-16T12-30-16Z.html")
    assert url == "https://www.wordtune.com/terms-of-use"
    trackers = {t.domain: t for t in find_trackers(html, url)}
    gtm = trackers["www.googletagmanager.com"]
    assert (gtm.matched, gtm.company, gtm.category) == ("googletagmanager.com", "Google", "advertising")
    assert {"script", "iframe", "inline-script"} <= set(gtm.via)
    intercom = trackers["widget.intercom.io"]
    assert (intercom.company, intercom.category) == ("Intercom", "customer_interaction")
    assert trackers["www.googleoptimize.com"].category == "site_analytics"
    assert not any(d.endswith("wordtune.com") for d in trackers)


def test_openai_terms_page_loads_cloudflare_insights(corpus: Path) -> None:
    html, url = snapshot(corpus, "openai/terms-of-service", "snapshots/2024-02-10T00-30-28Z.html")
    trackers = {t.domain: t for t in find_trackers(html, url)}
    beacon = trackers["static.cloudflareinsights.com"]
    assert (beacon.name, beacon.company) == ("Cloudflare Insights", "Cloudflare")
    assert beacon.category == "site_analytics"
    assert beacon.via == ("script",)
    assert trackers["fonts.googleapis.com"].company == "Google"


def test_deepseek_policy_lists_an_unknown_third_party(corpus: Path) -> None:
    html, url = snapshot(corpus, "deepseek/privacy-policy", "snapshots/2026-02-10T19-02-10Z.html")
    assert find_trackers(html, url) == [Tracker("api.prighter.com", None, None, None, None, ("img",))]


def test_links_to_other_sites_are_not_third_party_loads(corpus: Path) -> None:
    # Anthropic's terms link to claude.com and anthropic.com but load everything from their own site.
    html, url = snapshot(corpus, "claude-ai/terms-of-service", "snapshots/2025-12-07T07-09-38Z.html")
    assert "https://claude.com" in html
    assert find_trackers(html, url) == []
