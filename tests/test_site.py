"""End to end: import real documents → verify → build → every page exists and links resolve."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import lxml.html
import pytest

from generator import urls
from generator.archive import ArchiveWriter, load_archive
from generator.checklog import Observation, append_check
from generator.clauses import split_clauses
from generator.cli import main
from generator.model import ArchivedDocument
from generator.ota_import import import_corpus
from generator.pipeline import build
from generator.serve import make_server
from generator.signing import Signer, load_signer
from generator.sitefolder import SiteOutputError
from generator.sitemodel import format_time
from generator.verify import verify_archive

from .conftest import ROOT, tree_state
from .sitecheck import broken_links, ids_of, search_fragments


@pytest.fixture
def built(project: Path) -> Path:
    assert verify_archive(project / "archive").ok
    out = project / "site"
    build(project / "content", project / "archive", out)
    return out



@pytest.mark.parametrize(("iso", "shown"), [
    ("2025-08-01T00:32:05Z", "2025-08-01 00:32:05 UTC"),
    ("2024-02-29T23:59:59Z", "2024-02-29 23:59:59 UTC"),
    ("2025-8-1T0:32:05Z", "2025-08-01 00:32:05 UTC"),  # unpadded: as strptime reads it
    ("2023-02-29T00:00:00Z", "2023-02-29T00:00:00Z"),  # no such day: shown as it is
    ("2025-08-01T24:00:00Z", "2025-08-01T24:00:00Z"),
    ("2025-08-01T00:32:05", "2025-08-01T00:32:05"),
    ("2025-08-01T00:32:05 ", "2025-08-01T00:32:05 "),
])
def test_capture_times_read_as_utc(iso: str, shown: str) -> None:
    assert format_time(iso) == shown

def test_every_page_of_the_url_contract_exists(project: Path, built: Path) -> None:
    archive = load_archive(project / "archive")
    assert (built / "index.html").is_file() and (built / "404.html").is_file()
    assert (built / "about/index.html").is_file() and (built / "minisign.pub").is_file()
    for doc in archive.documents:
        base = built / doc.key.service / doc.key.doc_type
        assert (built / doc.key.service / "index.html").is_file()
        assert (base / "index.html").is_file() and (base / "history/index.html").is_file()
        for v in doc.versions:
            assert (base / v.id / "index.html").is_file()
            for suffix in (".md", ".md.minisig", ".json", ".json.minisig"):
                assert (base / f"{v.id}{suffix}").read_bytes() == \
                    (doc.directory / "versions" / f"{v.id}{suffix}").read_bytes()


def test_pages_link_to_each_other(project: Path, built: Path) -> None:
    assert broken_links(built, "/clausewatch/") == []
    archive = load_archive(project / "archive")
    doc = archive.documents[0]
    home = (built / "index.html").read_text()
    assert f'href="{doc.key.service}/"' in home
    history = (built / doc.key.service / doc.key.doc_type / "history/index.html").read_text()
    for v in doc.versions:
        assert f'href="../../../{doc.key}/{v.id}/"' in history
    middle = doc.versions[1]
    page = (built / doc.key.service / doc.key.doc_type / middle.id / "index.html").read_text()
    assert f'rel="prev" href="../../../{doc.key.service}/{doc.key.doc_type}/{doc.versions[0].id}/"' in page


def _trackers_section(built: Path, doc: str) -> str:
    return (built / doc / "index.html").read_text().split('id="trackers"')[1].split("</section>")[0]


def test_document_pages_list_the_trackers_found_in_the_latest_raw_pages(project: Path, built: Path) -> None:
    # Derived at build time from the signed raw pages, like findings: no archive file holds them.
    openai = _trackers_section(built, "openai/terms-of-service")
    assert "static.cloudflareinsights.com" in openai and "Cloudflare Insights" in openai
    assert "No third-party host found" in _trackers_section(built, "claude-ai/commercial-terms")
    # Two pages, one host list; Google's own gstatic.com is Google's, not a third party, on its page.
    google = _trackers_section(built, "google-generative-ai-services/terms-of-service")
    assert "No third-party host found" in google and "<table" not in google
    own = google.split('class="own-hosts"')[1]
    assert own.count("fonts.gstatic.com") == own.count("www.gstatic.com") == 1
    assert "Hosts of Google itself" in own
    assert "Not listed: no raw page of this version is stored." in _trackers_section(
        built, "firefox/privacy-policy")
    assert not [p for p in (project / "archive").rglob("*.json") if '"trackers"' in p.read_text()]
    # A raw page that fails verification lists nothing, in an incremental build too.
    doc = next(d for d in load_archive(project / "archive").documents
               if str(d.key) == "openai/terms-of-service")
    raw = doc.directory / doc.latest.snapshots[0].file
    raw.write_bytes(raw.read_bytes().replace(b"</head>", b'<script src="https://evil.example/x.js"></script></head>'))
    build(project / "content", project / "archive", built)
    openai = _trackers_section(built, "openai/terms-of-service")
    assert "Not listed: its stored raw page failed verification." in openai and "evil.example" not in openai


def test_a_site_signed_with_the_published_demo_key_says_so_on_every_page(
        project: Path, built: Path, small_corpus: Path, key_pair: tuple[Path, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    # The demo key's secret half is in the repository: its signatures prove integrity, not origin.
    notice = "This archive is signed with a demo key whose secret half is published"
    pages = list(built.rglob("*.html"))
    assert len(pages) > 50 and all(notice in p.read_text() for p in pages)
    assert main(["verify", "--archive", str(project / "archive")]) == 0
    assert "is the published demo key" in capsys.readouterr().err
    own = project / "own"  # the same documents signed with a deployment's own key
    import_corpus(small_corpus, ArchiveWriter(own / "archive", load_signer(key_pair[0])))
    build(project / "content", own / "archive", own / "site")
    assert not [p for p in (own / "site").rglob("*.html") if "demo key" in p.read_text()]
    assert main(["verify", "--archive", str(own / "archive")]) == 0
    assert "demo key" not in capsys.readouterr().err


def test_version_page_shows_text_and_evidence(project: Path, built: Path) -> None:
    doc = next(d for d in load_archive(project / "archive").documents
               if str(d.key) == "claude-ai/commercial-terms")
    v = doc.latest
    page = (built / "claude-ai/commercial-terms" / v.id / "index.html").read_text()
    assert v.sha256 in page and v.snapshots[0].sha256 in page
    assert "Open Terms Archive contributors" in page
    # The raw page whose SHA-256 is shown, and its signature, in the repository (not served here:
    # its own scripts would run; found by a journalist's review: nothing led to it)
    raw = f"https://github.com/clausewatch/clausewatch/blob/HEAD/archive/{doc.key}/{v.snapshots[0].file}"
    assert f'<a href="{raw}" rel="nofollow">' in page and f'<a href="{raw}.minisig" rel="nofollow">' in page
    assert (project / "archive" / str(doc.key) / v.snapshots[0].file).with_suffix(".html.minisig").is_file()
    first_heading = next(line for line in v.read_text().splitlines() if line.strip())
    assert first_heading.strip("# ") in page


def test_site_credits_open_terms_archive(built: Path) -> None:
    for page in ("index.html", "about/index.html"):
        text = (built / page).read_text()
        assert "Open Terms Archive" in text and "Open Data Commons Attribution License" in text


def test_no_inline_script_and_no_third_party_requests(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 50
    for file in pages:
        tree = lxml.html.fromstring(file.read_bytes())
        assert not tree.xpath("//iframe|//img|//object|//embed"), file
        for script in tree.xpath("//script"):  # only our own files: the CSP forbids inline code
            if script.get("type") == "text/pagefind-template":  # a data block, never run: search.html's
                assert script.getparent().tag == "pagefind-results" and file.parent.name == "search", file
                assert "{{+ excerpt +}}" in (script.text or "") and "src" not in script.attrib, file
                continue
            src = script.get("src", "")
            assert src and not script.text and not src.startswith(("http:", "https:", "//")), file
        for element in tree.xpath("//link[@href]"):
            assert not element.get("href").startswith(("http:", "https:", "//")) \
                or element.get("rel") == "canonical", file


def test_hostile_version_text_stays_inert(project: Path) -> None:
    victim = sorted((project / "archive").glob("openai/terms-of-service/versions/*.md"))[0]
    # Bypass signing on purpose: the renderer must be safe even for text that got in somehow.
    victim.write_text("<script>alert(1)</script>\n\n[x](javascript:alert(1))\n")
    out = project / "site"
    build(project / "content", project / "archive", out)
    page = (out / "openai/terms-of-service" / victim.stem / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and 'href="javascript' not in page


@pytest.mark.parametrize("damage", ["not UTF-8", "missing", "a folder", "its signature a folder"])
def test_a_damaged_version_text_is_shown_as_failing_verification(project: Path, damage: str) -> None:
    # Found by fuzzing the archive: the build stopped on a text that was not UTF-8 or was gone,
    # or a folder in place of a text or its signature ("Is a directory").
    victim = sorted((project / "archive").glob("openai/terms-of-service/versions/*.md"))[1]
    if damage == "missing":
        victim.unlink()
    elif damage == "a folder":
        victim.unlink()
        victim.mkdir()
    elif damage == "its signature a folder":
        signature = victim.with_name(victim.name + ".minisig")
        signature.unlink()
        signature.mkdir()
    else:
        victim.write_bytes(b"We may close your account.\n\xc3")
    messages: list[str] = []
    build(project / "content", project / "archive", project / "site", progress=messages.append)
    assert any(m.startswith("warning: ") and "clausewatch verify" in m for m in messages), messages
    page = (project / "site/openai/terms-of-service" / victim.stem / "index.html").read_text()
    assert "verification FAILED" in page
    # said at the top of the page and in its data, not only in the evidence panel (found by review)
    assert "<strong>Verification failed:</strong>" in page
    # a screen reader hears which checks failed: the ✓ and ✗ are hidden from it (found by review)
    failed = '<span class="visually-hidden">Failed:</span> Cryptographically signed: verification FAILED'
    assert failed in page
    assert "its signature verifies" not in page
    data = json.loads((project / "site/api/openai/terms-of-service" / f"{victim.stem}.json").read_text())
    assert data["verified"] is False


def test_a_document_page_says_when_it_was_last_checked_next_to_its_title(project: Path,
                                                                        demo_signer: Signer) -> None:
    # Found by review: a latest version years old read as current; the check date was screens down.
    checked, unchecked = load_archive(project / "archive").documents[:2]
    append_check(project / "archive", demo_signer, checked.key, Observation(
        checked_at="2030-01-01T00:00:00Z", outcome="http-error", reason="Service Unavailable",
        http_status=503, version_id=checked.versions[-1].id))
    build(project / "content", project / "archive", project / "site")

    def header(doc: ArchivedDocument) -> str:
        page = lxml.html.fromstring((project / "site" / f"{doc.key}/index.html").read_bytes())
        return " ".join(page.xpath("//header[@class='doc-header']")[0].text_content().split())

    assert "last checked 2030-01-01: http-error" in header(checked)
    assert "not checked by us yet (history imported)" in header(unchecked)


def test_rebuild_rewrites_nothing_and_removes_stale_files(project: Path, built: Path) -> None:
    stale = built / "old-service" / "index.html"
    stale.parent.mkdir()
    stale.write_text("gone")
    build(project / "content", project / "archive", built)
    before = tree_state(built)
    report = build(project / "content", project / "archive", built)
    assert report.files_changed == 0 and report.files_removed == 0
    assert tree_state(built) == before and not stale.exists()


def test_build_refuses_a_foreign_non_empty_folder(project: Path) -> None:
    out = project / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(SiteOutputError, match="not made by clausewatch"):
        build(project / "content", project / "archive", out)
    assert (out / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize("inside", ["archive/site", "content/pages/site"])
def test_build_refuses_an_output_folder_inside_its_inputs(inside: str, project: Path) -> None:
    # Found by trying the verbs: the site then sat in the archive, and verify still said OK.
    out = project / inside
    with pytest.raises(SiteOutputError, match=f"is inside {project / inside.split('/')[0]}, which the site"):
        build(project / "content", project / "archive", out, cache_dir=project / "cache")
    assert not out.exists()


def test_full_build_of_the_committed_archive(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "generator", "build", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    archive = load_archive(ROOT / "archive")  # it grows with every capture: count it
    documents, versions = len(archive.documents), archive.version_count
    assert f"for {documents} documents and {versions} versions" in result.stdout
    version_pages = list(out.glob("*/*/????-??-??T??-??-??Z/index.html"))
    assert len(version_pages) == versions
    assert len(list(out.glob("*/*/????-??-??T??-??-??Z/changes/index.html"))) == versions - documents
    changes = next(out.glob("claude-ai/terms-of-service/*/changes/index.html")).read_text()
    assert "Flagged provisions added and removed by this change" in changes
    assert len(list(out.glob("*/*/history/index.html"))) == documents
    history = (out / "openai/terms-of-service/history/index.html").read_text()
    assert "<td data-label=\"Checks before it\">—</td>" in history and "“—”: none was logged" in history
    # A link repeated on a page says, to a screen reader's list of links, which finding it is for.
    page = lxml.html.fromstring((out / "openai/terms-of-service/index.html").read_bytes())
    # A version page's breadcrumb names it by its capture time, as its changes page does, not its id.
    latest = load_archive(ROOT / "archive").documents[0].latest
    version = lxml.html.fromstring((out / f"{latest.key}/{latest.id}/index.html").read_bytes())
    [here] = version.xpath("//nav[@aria-label='Breadcrumb']//li[last()]")
    assert here.text_content().strip() == format_time(latest.captured_at)
    # The document page leads past its summary to each of its sections (a phone scrolled screens).
    jumps = page.xpath("//nav[@aria-label='On this page']//a/@href")
    assert jumps and all(page.xpath(f"//*[@id='{href[1:]}']") for href in jumps), jumps
    repeated = page.xpath("//a[normalize-space()='See it in the full text']")
    assert len(repeated) > 1 and all(a.get("aria-label", "").startswith("See it in the full text: ")
                                     for a in repeated)
    # Search takes one page per document, its latest version's (with the document page too, every
    # search listed each document twice).
    searched = sorted(str(p.parent.relative_to(out)) for p in out.rglob("index.html")
                      if b"data-pagefind-body" in p.read_bytes())
    assert searched == sorted(f"{d.key}/{d.latest.id}" for d in archive.documents)
    assert len(list(out.glob("*/index.html"))) >= 22 + 1  # services + about
    assert broken_links(out, "/clausewatch/") == []


@contextmanager
def serving(site: Path, quiet: bool = True, base_path: str = "/") -> Iterator[str]:
    """The site served on 127.0.0.1 by the preview's server, in a thread; yields its origin."""
    server = make_server(site, port=0, quiet=quiet, base_path=base_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(built: Path) -> Iterator[str]:
    with serving(built, base_path="/clausewatch/") as origin:  # as site.yaml's base_url deploys it
        yield origin


def test_served_site_answers_pages_raw_files_and_404(served: str, project: Path) -> None:
    doc = load_archive(project / "archive").documents[0]
    with httpx.Client(base_url=served) as client:
        home = client.get("/")
        assert home.status_code == 302 and home.headers["location"] == "/clausewatch/"
        assert client.get("/clausewatch/").status_code == 200
        page = client.get(f"/clausewatch/{doc.key}/history/")
        assert page.status_code == 200 and doc.latest.id in page.text
        raw = client.get(f"/clausewatch/{doc.key}/{doc.latest.id}.md")
        assert raw.content == doc.latest.text_path.read_bytes()
        for path in ("/clausewatch/no/such/page/", "/no/such/page/", f"/{doc.key}/history/",
                     "/clausewatch/assets/"):  # a folder without index.html: no listing
            missing = client.get(path)
            assert missing.status_code == 404 and "Page not found" in missing.text, path
        # The 404 page's links start from the base path: its style sheet loads, wherever it is shown.
        sheet = missing.text.split('rel="stylesheet" href="')[1].split('"')[0]
        assert sheet.startswith("/clausewatch/") and client.get(sheet).status_code == 200
        # So does its search form: sent from any depth, it opens the search page with the words.
        form = lxml.html.fromstring(missing.text).cssselect("form.site-search")[0]
        assert form.get("action") == "/clausewatch/search/" and form.cssselect("input[name=q]")
        assert client.get(form.get("action"), params={"q": "arbitration"}).status_code == 200


def test_build_cli_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--content", str(tmp_path / "nope"), "--out", str(tmp_path / "s")]) == 1
    assert f"{tmp_path / 'nope'}: --content: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["build", "--content", str(tmp_path / "empty"), "--out", str(tmp_path / "s")]) == 1
    assert "site.yaml: file not found" in capsys.readouterr().err


def test_build_refuses_a_foreign_folder_before_any_work(project: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "thesis"
    out.mkdir()
    (out / "chapter.tex").write_text("precious")
    assert main(["build", "--content", str(project / "content"), "--archive", str(project / "archive"),
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not made by clausewatch" in err and "analysing" not in err and "loading" not in err


def test_the_preview_is_quiet_when_a_reader_drops_a_connection(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # A tab closed while a page loads broke the server's write: a traceback per dropped request.
    with make_server(tmp_path, port=0, quiet=True) as server, socket.socket() as request:
        for dropped in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise dropped
            except ConnectionError:
                server.handle_error(request, ("127.0.0.1", 50000))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a fault of the server")
        except ValueError:
            server.handle_error(request, ("127.0.0.1", 50000))
        assert "ValueError: a fault of the server" in capsys.readouterr().err


def test_serve_and_keygen_report_system_errors_in_one_line(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:  # found by trying the verbs: this was a traceback
        main(["serve", "--port", "99999"])
    assert usage.value.code == 2 and "not a port number" in capsys.readouterr().err
    with make_server(tmp_path, port=0, quiet=True) as taken:
        port = taken.server_address[1]
        assert main(["serve", "--port", str(port), "--out", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert not (tmp_path / "site").exists()  # refused before building
    assert main(["build", "--theme", str(tmp_path / "no-such-theme"), "--out", str(tmp_path / "site")]) == 2
    assert "no templates/ or static/ folder" in capsys.readouterr().err  # it used to be ignored
    (tmp_path / "file").write_text("a file, not a folder")
    assert main(["keygen", str(tmp_path / "file" / "keys")]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_an_archive_path_that_is_no_folder_is_refused(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # `stats` used to count a mistyped --archive as an archive of 0 documents.
    (tmp_path / "notes.txt").write_text("not an archive")
    for path, what in ((tmp_path / "notes.txt", "not a folder"), (tmp_path / "nope", "no such folder")):
        for verb in (["stats"], ["analyze", "openai"], ["verify"]):
            assert main([*verb, "--archive", str(path)]) == 1
            err = capsys.readouterr().err
            assert f"{path}: --archive: {what}" in err and "fix: pass the archive folder" in err


def test_a_mistyped_document_key_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    # Found by review: the fix pointed at `clausewatch stats`, which lists no keys.
    assert main(["analyze", "claude-ai/terms-of-servce", "--archive", str(ROOT / "archive")]) == 1
    assert "(fix: did you mean 'claude-ai/terms-of-service'?)" in capsys.readouterr().err
    assert main(["analyze", "zzzz", "--archive", str(ROOT / "archive")]) == 1
    assert "one of: bluesky, chatgpt, claude-ai," in capsys.readouterr().err


def test_output_read_only_in_part_is_no_error_message() -> None:
    # Found by review: `clausewatch analyze claude-ai | head -1` said "error: Broken pipe", status 1.
    services = sorted(p.name for p in (ROOT / "archive").iterdir() if p.is_dir())
    # 200 KB of output, more than a pipe holds: the writer meets the closed pipe
    process = subprocess.Popen([sys.executable, "-m", "generator", "analyze", *services, "--format", "json"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()  # one line read, then the reader goes away
    process.stdout.close()
    assert process.wait(timeout=120) == 141  # as a process SIGPIPE ended: not success, not an error message
    assert process.stderr.read() == b""


def test_no_page_shows_a_path_of_the_building_machine(project: Path, built: Path) -> None:
    pages = [p for p in built.rglob("*") if p.suffix in (".html", ".json", ".xml")]
    assert len(pages) > 50
    leaks = [p for p in pages if str(project) in p.read_text(encoding="utf-8")]
    assert leaks == []
    rule = (built / "rules/mandatory-arbitration/index.html").read_text()
    assert "<code>content/rules/arbitration/mandatory-arbitration.yaml</code>" in rule


def test_rule_pages_name_the_document_types_they_apply_to(built: Path) -> None:
    rule = (built / "rules/terminate-at-will/index.html").read_text()
    assert "Applies to Terms of Service, Commercial Terms, " in rule
    assert "terms-of-service" not in rule.split("Applies to", 1)[1].split("</p>", 1)[0]
    every = (built / "rules/personalised-advertising/index.html").read_text()
    assert "Applies to every document type." in every


@pytest.mark.parametrize("quiet", [False, True])
def test_preview_logs_requests_unless_quiet(built: Path, quiet: bool,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    with serving(built, quiet) as origin:
        assert httpx.get(f"{origin}/").status_code == 200
    assert ('"GET / HTTP/1.1" 200' in capfd.readouterr().err) is not quiet


def test_a_change_of_layout_only_is_not_listed_as_a_change_by_the_service(committed_site: Path) -> None:
    from generator.model import ChangeStats, Version
    from generator.sitemodel import VersionView

    home = (committed_site / "index.html").read_text()
    wording, others = home.split('id="recent"')[1].split("<h3>Re-extractions")
    others = others.split('id="services"')[0]
    layout_only = 'href="chatgpt/privacy-policy/2026-07-21T07-00-21Z/changes/"'  # +0 / −0 words
    assert layout_only not in wording and layout_only in others
    assert "formatting only" in others
    history = (committed_site / "chatgpt/privacy-policy/history/index.html").read_text()
    assert "formatting only" in history
    changes = (committed_site / "chatgpt/privacy-policy/2026-07-21T07-00-21Z/changes/index.html").read_text()
    assert "<strong>Formatting only:</strong>" in changes
    # A printed diff is an exhibit: it names its permalink and both versions with their SHA-256.
    doc = next(d for d in load_archive(ROOT / "archive").documents if str(d.key) == "chatgpt/privacy-policy")
    index = [v.id for v in doc.versions].index("2026-07-21T07-00-21Z")
    for version in doc.versions[index - 1:index + 1]:
        assert version.sha256 in changes and version.id in changes
    permalink = "https://clausewatch.github.io/clausewatch/chatgpt/privacy-policy/2026-07-21T07-00-21Z/changes/"
    assert permalink in changes
    version = Version.__new__(Version)
    object.__setattr__(version, "kind", "change")
    moved = VersionView(version, 2, "a", None, change=ChangeStats(0, 0, "0%", words_moved=12))
    assert not moved.formatting_only and moved.kind_label == "paragraphs moved only"  # not layout: a change
    assert VersionView(version, 2, "a", None, change=ChangeStats(0, 0, "0%")).formatting_only


def test_the_citation_names_the_source_addresses_and_each_page_has_its_wayback_link(
        committed_site: Path) -> None:
    import html as html_lib
    import re

    page = (committed_site / "chatgpt/privacy-policy/2026-07-25T07-00-24Z/index.html").read_text()
    found = re.search(r'<textarea id="cite-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    citation = html_lib.unescape(found.group(1))
    assert citation.startswith("OpenAI, “Privacy Policy” (ChatGPT), "
                               "https://openai.com/policies/eu-privacy-policy/ and ")
    assert "as captured 2026-07-25 07:00:24 UTC" in citation and "a published demo key" in citation
    # the key itself, as minisign.pub holds it: anyone can make a key with the same id (found by a
    # journalist's review)
    public_key = (ROOT / "archive" / "minisign.pub").read_text().split()[-1]
    assert f"minisign public key {public_key}, a published demo key" in citation
    assert page.count("https://web.archive.org/web/20260725070024/https://openai.com/policies/") == 2
    single = (committed_site / "openai/terms-of-service/2024-02-10T00-30-28Z/index.html").read_text()
    found = re.search(r'<textarea id="cite-text"[^>]*>(.*?)</textarea>', single, re.S)
    assert found and html_lib.unescape(found.group(1)).startswith(
        "OpenAI, “Terms of Service”, https://openai.com/policies/terms-of-use, as captured")


def test_a_technical_version_is_cited_by_the_time_its_page_was_fetched(committed_site: Path) -> None:
    """A re-extraction's capture time is when the text was made again; a citation must give when the
    page was read (found by a reader review: "as captured" four months after the fetch)."""
    import html as html_lib
    import re

    page = (committed_site / "deepseek/privacy-policy/2025-12-10T15-55-01Z/index.html").read_text()
    found = re.search(r'<textarea id="cite-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    citation = html_lib.unescape(found.group(1))
    assert "as fetched 2025-08-14 12:33:13 UTC (text extracted again 2025-12-10 15:55:01 UTC)" in citation
    assert "<dt>Page fetched</dt><dd>2025-08-14 12:33:13 UTC</dd>" in page
    assert "web.archive.org/web/20250814123313/" in page and "web.archive.org/web/20251210" not in page
    # the title, the printed running header and the evidence panel do not call the extraction a capture
    # (found by a journalist's review: "captured 2025-12-10" on every printed sheet)
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "as extracted again 2025-12-10 15:55:01 UTC from the page fetched 2025-08-14 12:33:13 UTC" in text
    assert "captured 2025-12-10" not in text and "Captured 2025-12-10" not in text
    assert "text extracted again 2025-12-10 15:55:01 UTC from the page fetched 2025-08-14" in page
    # a record whose page was fetched after its text was extracted says one of the two times is wrong
    odd = (committed_site / "claude-ai/terms-of-service/2025-12-07T07-09-38Z/index.html").read_text()
    assert "(text extracted again 2025-12-07 07:09:38 UTC, as recorded; one of the two times is wrong)" in odd
    assert "one of the two times is wrong" not in page


def test_a_document_of_several_pages_is_cited_by_each_page() -> None:
    """A live capture's version records its first page's final URL, and each page's in its source:
    every page is cited (before, only the first was named)."""
    from generator.model import DocKey, Version
    from generator.sitemodel import VersionView

    pages = ["https://acme.example/terms", "https://acme.example/terms/eu"]
    version = Version(key=DocKey("acme", "terms-of-service"), id="2026-01-01T00-00-00Z",
                      captured_at="2026-01-01T00:00:00Z", kind="first", sha256="0" * 64, bytes=1, url=None,
                      final_url="https://www.acme.example/terms", http_status=200, snapshot_id=None,
                      snapshots=(), source=None, directory=Path("."), metadata={"urls": pages})
    assert VersionView(version, 1, None, None).source_urls == ["https://www.acme.example/terms", pages[1]]
    # Where the capture recorded each page's final URL, the others are cited by theirs.
    recorded: dict[str, object] = {"pages": [
        {"url": pages[0], "final_url": "https://www.acme.example/terms"},
        {"url": pages[1], "final_url": "https://www.acme.example/terms/eu/2026"}]}
    captured = dataclasses.replace(version, source=recorded)
    assert VersionView(captured, 1, None, None).source_urls == [
        "https://www.acme.example/terms", "https://www.acme.example/terms/eu/2026"]


def test_line_breaks_written_in_table_cells_show_as_breaks_not_markup(committed_site: Path) -> None:
    # 48 archived texts break lines in table cells with <br>; only diffs, which show the text as
    # archived, may show it as written.
    pages = [p for p in committed_site.rglob("*.html") if "changes" not in p.parts]
    assert len(pages) > 300
    assert [p for p in pages if "&lt;br" in p.read_text()] == []
    text = (committed_site / "chatgpt/privacy-policy/2026-07-25T07-00-24Z/index.html").read_text()
    assert text.count("<br>") > 10


def test_a_text_that_goes_back_to_an_earlier_wording_and_a_reorder_are_named(committed_site: Path) -> None:
    # Discord's terms of 2025-05-15 are byte for byte those of 2024-11-14 (after two reorderings).
    base = committed_site / "discord" / "terms-of-service"
    version = " ".join((base / "2025-05-15T18-04-56Z" / "index.html").read_text().split())
    assert 'This text is identical to that of the <a href="../../../discord/terms-of-service/' \
           '2024-11-14T15-21-59Z/">version of' in version
    changes = " ".join((base / "2025-05-15T18-04-56Z" / "changes" / "index.html").read_text().split())
    assert "Back to an earlier text:" in changes
    previous = " ".join((base / "2025-04-18T18-04-19Z" / "index.html").read_text().split())
    assert "identical to that of" not in previous
    history = (base / "history" / "index.html").read_text()
    assert "paragraphs moved only" in history


def test_newly_flagged_provisions_are_listed_most_severe_first(committed_site: Path) -> None:
    import re

    order = {"high": 0, "medium": 1, "low": 2}
    lists = 0
    for page in committed_site.glob("*/*/*/changes/index.html"):
        section = page.read_text().split('class="finding-changes"', 1)[-1].split("</section>", 1)[0]
        for listing in section.split("<h3>")[1:]:
            severities = re.findall(r'<span class="severity severity-(\w+)">', listing)
            lists += len(set(severities)) > 1
            assert [order[s] for s in severities] == sorted(order[s] for s in severities), page
    assert lists > 10  # lists that mix severities were checked


def test_a_flagged_sentence_that_introduces_a_list_shows_the_list_once(committed_site: Path) -> None:
    import json

    page = lxml.html.parse(str(committed_site / "bluesky/terms-of-service/index.html")).getroot()
    quotes = [c.cssselect("blockquote")[0]
              for c in page.cssselect('li.finding-item[id^="finding-user-indemnifies-company-"]')]
    quote = next(q for q in quotes if q.text_content().strip().startswith("You agree to indemnify"))
    items = [li.text_content() for li in quote.cssselect("ul.list-items > li")]
    assert len(items) == 5 and "Your User Content;" in items
    # The items are the lead-in's, not provisions of their own: no card quotes one of them.
    assert not any(c.cssselect("blockquote > p")[0].text_content() == "Your User Content;"
                   for c in page.cssselect("li.finding-item"))
    api = json.loads((committed_site / "api/bluesky/terms-of-service.json").read_text())
    indemnity = [f for f in api["latest"]["findings"] if f["rule_id"] == "user-indemnifies-company"]
    assert sorted(len(f["list_items"]) for f in indemnity) == [0, 5]


def test_a_long_list_is_quoted_in_part_and_the_rest_counted_outside_the_quote() -> None:
    from generator.render import make_environment
    from generator.sitefolder import DEFAULT_THEME

    template = make_environment([DEFAULT_THEME]).from_string(
        '{% from "macros.html" import list_items, more_items %}'
        "<blockquote>{{ list_items(items, shown) }}</blockquote>{{ more_items(items, shown) }}")
    items = [f"item {n};" for n in range(1, 15)]
    html = lxml.html.fromstring(template.render(items=items, shown=12))
    assert [li.text_content() for li in html.cssselect("blockquote li")] == items[:12]
    assert [p.text_content() for p in html.cssselect("p.more-items")] == [
        "… and 2 more items of this list in the full text."]
    assert not html.cssselect("blockquote p.more-items")
    one_more = lxml.html.fromstring(template.render(items=["a", "b"], shown=1))
    assert one_more.cssselect("p.more-items")[0].text_content() == \
        "… and 1 more item of this list in the full text."
    assert "more-items" not in template.render(items=["a"], shown=12)


def test_an_archived_source_url_is_a_link_only_when_it_is_a_web_address() -> None:
    """Imported metadata may name any URL: the evidence panel links http(s) ones and shows others
    as text, so no `javascript:` or `data:` address becomes a link of ours."""
    from generator.render import make_environment
    from generator.sitefolder import DEFAULT_THEME

    env = make_environment([DEFAULT_THEME])
    assert 'source_link(v.version.url)' in (DEFAULT_THEME / "templates" / "macros.html").read_text()
    template = env.from_string('{% from "macros.html" import source_link %}{{ source_link(url) }}')
    for url in ("https://acme.example/terms", "HTTP://acme.example/terms"):
        assert lxml.html.fragment_fromstring(template.render(url=url)).get("href") == url
    for url in ("javascript:alert(document.domain)", " javascript:alert(1)", "data:text/html,<b>x</b>",
                "//evil.example/terms"):
        html = template.render(url=url)
        assert "href" not in html and lxml.html.fragment_fromstring(html).text_content() == url


def test_flagged_in_this_wording_since_means_the_quote_too(committed_site: Path) -> None:
    """A clause keeps its id when only punctuation or symbols change ("(as applicable)" for ", as
    applicable"; "$100" for "€100"): the version a card dates the wording from quotes it as the card
    does (found by a reader review: Claude.ai's card quoted words its "since" version did not have)."""
    card = re.compile(r'id="finding-([a-z0-9-]+)-(c-[0-9a-f]{12}(?:-\d+)?)".*?'
                      r'in this wording since the version of <a href="[^"]*/([^/"]+)/"', re.S)
    checked = 0
    for doc in load_archive(ROOT / "archive").documents:
        api = committed_site / "api" / str(doc.key)
        quotes = {(f["rule_id"], f["clause_id"]): f["quote"]
                  for f in json.loads((api / f"{doc.latest.id}.json").read_text())["findings"]}
        for rule, clause, since in card.findall((committed_site / str(doc.key) / "index.html").read_text()):
            then = {(f["rule_id"], f["clause_id"]): f["quote"]
                    for f in json.loads((api / f"{since}.json").read_text())["findings"]}
            assert then.get((rule, clause)) == quotes[rule, clause], (doc.key, rule, clause, since)
            checked += 1
    assert checked > 400


def test_flagged_in_this_wording_since_counts_the_list_a_finding_quotes(committed_site: Path) -> None:
    """A finding's card dates its wording from the first version of the unbroken run that has it with
    the same clause and the same list items: Discord kept the sentence that introduces its reasons
    for termination but changed the reasons, and the card quotes the reasons of today."""
    api = committed_site / "api" / "discord" / "terms-of-service"
    documents = load_archive(ROOT / "archive").documents
    ids = [v.id for v in next(d for d in documents if str(d.key) == "discord/terms-of-service").versions]

    def wordings(version_id: str) -> set[tuple[str, str, tuple[str, ...]]]:
        data = json.loads((api / f"{version_id}.json").read_text())
        return {(f["rule_id"], f["clause_id"], tuple(f["list_items"])) for f in data["findings"]}

    runs = [wordings(i) for i in ids]
    expected = {}
    for wording in runs[-1]:
        first = len(runs) - 1
        while first > 0 and wording in runs[first - 1]:
            first -= 1
        expected[wording] = ids[first]
    card_dates = re.findall(r'flagged in this wording since the version of <a href="[^"]*/([^/"]+)/"',
                            (committed_site / "discord/terms-of-service/index.html").read_text())
    assert sorted(card_dates) == sorted(expected.values()) and card_dates
    # A wording seen since the first archived version may be older than the archive: said so, only there.
    said = []
    card = re.compile(r'in this wording since the version of <a href="[^"]*/([^/"]+)/">[^<]*</a>'
                      r'( \(the first archived: it may be older\))?')
    for doc in documents:
        oldest = doc.versions[0].id
        for since, note in card.findall((committed_site / str(doc.key) / "index.html").read_text()):
            assert bool(note) == (since == oldest), (doc.key, since)
            said.append(bool(note))
    assert True in said and False in said
    # and so do the category pages, which date the same wordings in their last column
    oldest_of = {str(d.key): d.versions[0].id for d in documents}
    row = re.compile(r'<td data-label="This wording since"><a href="[^"]*?([a-z0-9-]+/[a-z0-9-]+)/([^/"]+)/">'
                     r'<time[^>]*>[^<]*</time></a>( \(the first archived: it may be older\))?</td>')
    rows = [m for page in (committed_site / "categories").glob("*/index.html")
            for m in row.findall(page.read_text())]
    assert len(rows) > 100
    assert all(bool(note) == (since == oldest_of[doc]) for doc, since, note in rows)
    assert {bool(note) for _, _, note in rows} == {True, False}
    # The reasons changed while the sentence that introduces them stayed: dating the clause alone
    # would have given an earlier version, whose card would quote reasons it did not have.
    terminate = next(w for w in expected if w[0] == "terminate-at-will" and w[2])
    before = runs[ids.index(expected[terminate]) - 1]
    assert terminate not in before and terminate[:2] in {w[:2] for w in before}


@pytest.mark.parametrize(("template", "edit", "said"), [
    ("base.html", lambda text: "{% if %}\n" + text, "line 1: TemplateSyntaxError: Expected an expression"),
    ("rule.html", lambda text: text.replace("{% block main %}", "{% block main %}\n{{ no_such_thing.attr }}"),
     "UndefinedError: 'no_such_thing' is undefined"),
])
def test_a_theme_template_that_fails_is_named_with_its_line(template: str, edit: object, said: str,
                                                            project: Path, tmp_path: Path) -> None:
    # Found by trying the verbs: a site's own theme with a mistake ended the build in a Jinja2 traceback.
    from generator.model import ProblemsError

    theme = tmp_path / "theme"
    (theme / "templates").mkdir(parents=True)
    text = (ROOT / "themes/default/templates" / template).read_text()
    assert callable(edit)
    (theme / "templates" / template).write_text(edit(text))
    with pytest.raises(ProblemsError) as caught:
        build(project / "content", project / "archive", tmp_path / "site", theme=theme,
              cache_dir=tmp_path / "cache")
    [problem] = caught.value.problems
    assert problem.file == str(theme / "templates" / template) and problem.fix
    assert said in f"{problem.key}: {problem.message}"
    if template == "rule.html":  # the line the mistake is on
        line = edit(text).splitlines().index("{{ no_such_thing.attr }}") + 1
        assert problem.key == f"line {line}"


def test_a_milder_grade_shows_on_the_finding_and_is_explained_on_its_rule_page(committed_site: Path) -> None:
    """xAI suspends access until a failed payment is made: a stated reason, graded medium where a
    termination "for any reason" is high; the rule's page says when, and so does the rules JSON."""
    api = json.loads((committed_site / "api/xai/terms-of-service.json").read_text())
    graded = {f["quote"][:40]: f["severity"] for f in api["latest"]["findings"]
              if f["rule_id"] == "terminate-at-will"}
    assert graded["If your payment is not successful, we ma"] == "medium"
    assert "high" in graded.values()  # ("... at any time without notice ..., at our sole discretion")
    page = (committed_site / "rules/terminate-at-will/index.html").read_text()
    assert "instead when: the clause states the reason for the measure" in page
    assert "<h3>Graded medium</h3>" in page
    rules = {r["id"]: r for r in json.loads((committed_site / "api/rules.json").read_text())["rules"]}
    assert rules["terminate-at-will"]["milder"]["severity"] == "medium"
    assert rules["mandatory-arbitration"]["milder"]["severity"] == "low"
    assert rules["exclusive-forum"]["milder"] is None


def test_search_indexes_the_texts_not_the_panels_every_page_has(committed_site: Path) -> None:
    """The cite box and the evidence panel say "Permalink", "minisign" and "Cryptographically signed"
    on every version page: indexed, they matched every document (and crowded the excerpts)."""
    fragments = search_fragments(committed_site)
    documents = load_archive(ROOT / "archive").documents
    current = [f for f in fragments if f["filters"].get("wording") == ["current"]]
    # one searched page per document, its latest version's; the others are earlier wordings
    assert sorted(f["url"] for f in current) == sorted(
        "/" + urls.version_path(d.key, d.versions[-1].id) for d in documents)
    assert all(f["filters"].get("wording") == ["earlier"] for f in fragments if f not in current)
    panels = ("Permalink", "minisign", "Cryptographically signed", "permanent anchor")
    for fragment in fragments:
        assert not [w for w in panels if w in fragment["content"]], fragment["url"]
    assert all(f["word_count"] > 100 for f in current)  # the text itself is there


def test_search_holds_each_earlier_wording_at_the_last_version_that_had_it(committed_site: Path) -> None:
    """An older version is searched by the clauses its next version no longer has (earlier.py): each
    a sub-result anchored at the clause on that version's page, whose wording the next version
    lacks; none after a technical version, whose differences are the extraction's."""
    documents = {str(d.key): d for d in load_archive(ROOT / "archive").documents}
    earlier = [f for f in search_fragments(committed_site) if f["filters"].get("wording") == ["earlier"]]
    assert len(earlier) > 50, len(earlier)
    anchors = 0
    for fragment in earlier:
        service, doc_type, version_id = fragment["url"].strip("/").split("/")
        doc = documents[f"{service}/{doc_type}"]
        ids = [v.id for v in doc.versions]
        at = ids.index(version_id)
        assert at < len(ids) - 1, f"{fragment['url']} is the latest version"
        following = doc.versions[at + 1]
        assert following.kind != "technical", fragment["url"]
        title = json.loads((committed_site / "api" / f"{doc.key}.json").read_text())["title"]
        assert fragment["meta"]["title"].startswith(f"{title} as captured "), fragment["meta"]
        assert f": wording gone by {format_time(following.captured_at)}" in fragment["meta"]["title"]
        page = ids_of(committed_site / fragment["url"].strip("/") / "index.html")
        next_wordings = {c.id[:14] for c in split_clauses(following.read_text())}
        own = {c.id: c.text for c in split_clauses(doc.versions[at].read_text())}
        for anchor in fragment["anchors"]:
            if anchor["element"] != "h2":
                continue
            anchors += 1
            assert anchor["id"] in page, f"{fragment['url']}#{anchor['id']} is no anchor of its page"
            assert anchor["id"] in own and anchor["id"][:14] not in next_wordings, anchor
            assert " ".join(own[anchor["id"]].split()[:6]) in fragment["content"]
    assert anchors > len(earlier)


def test_earlier_wording_is_filtered_by_the_findings_on_its_own_clauses(committed_site: Path) -> None:
    """A record's category and severity filters are those of the findings on the clauses it holds
    (as its version's JSON lists them), so `wording=earlier` with a category finds dropped clauses."""
    names = {c["slug"]: c["name"] for c in
             json.loads((committed_site / "api/categories.json").read_text())["categories"]}
    earlier = [f for f in search_fragments(committed_site) if f["filters"].get("wording") == ["earlier"]]
    flagged = 0
    for fragment in earlier:
        held = {a["id"] for a in fragment["anchors"] if a["element"] == "h2"}
        version = json.loads((committed_site / "api" / (fragment["url"].strip("/") + ".json")).read_text())
        on_them = [f for f in version["findings"] if f["clause_id"] in held]
        categories = sorted({names[f["category"]] for f in on_them})
        assert sorted(fragment["filters"].get("category", [])) == categories
        assert sorted(fragment["filters"].get("severity", [])) == sorted({f["severity"] for f in on_them})
        flagged += bool(on_them)
    assert flagged >= 10, flagged  # records of dropped flagged clauses, to find by category



def test_a_document_page_says_how_many_clauses_its_findings_are_on(committed_site: Path) -> None:
    """Found by a journalist's and a reader's review: "Total 12" for Le Chat was six provisions, each
    twice (its captured text holds the policy twice), and Claude's 28 findings were on 25 clauses."""
    said = {}
    for page in committed_site.glob("*/*/index.html"):
        key = page.parent.relative_to(committed_site).as_posix()
        if not (committed_site / "api" / f"{key}.json").is_file():
            continue  # not a document page (categories/<slug>/, rules/<id>/)
        found = re.search(r"(\d+) findings on (\d+) clauses", page.read_text())
        latest = json.loads((committed_site / "api" / f"{key}.json").read_text())["latest"]["findings"]
        clauses = {f["clause_id"].split("-")[1] for f in latest}
        if found:
            said[key] = (int(found[1]), int(found[2]))
            assert said[key] == (len(latest), len(clauses)), key
        else:
            assert len(clauses) == len(latest), key
    # Ten provisions: its list of training data "your use of our products" (read since 2026-12-05), and two
    # rows of its retention table and its dispute data kept "longer for archival purpose" (since 2026-12-06).
    assert said["le-chat/privacy-policy"] == (20, 10)


def test_a_rules_findings_are_listed_together_and_explained_once(committed_site: Path) -> None:
    """ChatGPT's privacy policy asks for an opt-out in nine sentences: they were nine cards spread
    among the others, each with the same explanation (a reader's note left from an earlier review)."""
    page = lxml.html.parse(str(committed_site / "chatgpt/privacy-policy/index.html")).getroot()
    for section in page.cssselect("section[aria-labelledby^=provisions-]"):
        cards = section.cssselect("li.finding-item")
        rules = [c.get("id").split("-c-")[0] for c in cards]
        assert rules == sorted(rules, key=rules.index)  # each rule's cards together
        for rule in set(rules):
            mine = [c for c in cards if c.get("id").startswith(rule + "-c-")]
            assert len([c for c in mine if c.cssselect("p.explanation")]) == 1
            said = mine[0].cssselect("h4")[0].text_content()
            assert (f"({len(mine)} clauses)" in said) == (len(mine) > 1)
            assert all("(another clause)" in c.cssselect("h4")[0].text_content() for c in mine[1:])
    opt_outs = page.cssselect('li.finding-item[id^="finding-ai-training-opt-out-"]')
    assert len(opt_outs) > 3


def test_analyze_writes_findings_as_the_json_api_does(committed_site: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: `analyze --format json` wrote "lead_in": "" and "items", the JSON API
    "lead_in": null and "list_items": a script written against one misread the other."""
    assert main(["analyze", "perplexity/privacy-policy", "tumblr", "--format", "json",
                 "--archive", str(ROOT / "archive"), "--content", str(ROOT / "content")]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["document"] for p in printed] == ["perplexity/privacy-policy", "tumblr/terms-of-service"]
    for doc in printed:
        api = json.loads((committed_site / "api" / f"{doc['document']}.json").read_text())
        served = [{k: v for k, v in f.items() if k not in ("link", "rule")}
                  for f in api["latest"]["findings"]]
        assert doc["findings"] == served and served
    listed = [f for doc in printed for f in doc["findings"] if f["list_items"]]
    assert listed and all(f["lead_in"] is None or f["lead_in"] for doc in printed for f in doc["findings"])


def test_the_credit_is_given_once_a_page_with_its_addresses_as_links(built: Path) -> None:
    """Found by review: the about and methodology pages gave Open Terms Archive's credit twice (in
    the text and at the foot), and its licence and DOI were plain text."""
    for page in ("index.html", "about/index.html", "methodology/index.html"):
        text = (built / page).read_text()
        assert text.count("Open Data Commons Attribution License") == 1, page
        assert '<a href="https://opendatacommons.org/licenses/by/1-0/"' in text
        assert '<a href="https://doi.org/10.26092/elib/2373"' in text
    assert '<a href="#credits">foot of every' in (built / "about/index.html").read_text().replace("\n", " ")


def test_stats_counts_documents_checked_without_a_version_yet(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: `stats` counted 14 documents where `verify` counted 40 in the same archive:
    documents whose captures have all failed so far have a check log and no version."""
    archive = tmp_path / "archive"
    shutil.copytree(ROOT / "archive" / "bluesky", archive / "bluesky")
    shutil.copy(ROOT / "archive" / "minisign.pub", archive / "minisign.pub")
    (archive / "acme" / "terms-of-service").mkdir(parents=True)
    (archive / "acme" / "terms-of-service" / "checks.jsonl").write_text("")
    assert main(["stats", "--archive", str(archive)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 documents, "), out
    assert out.rstrip().endswith("; 1 more document checked, with no version yet"), out
