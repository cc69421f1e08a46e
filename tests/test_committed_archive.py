"""The committed sample archive: complete, verifiable by us and by the stock minisign tool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from generator.archive import ArchiveWriter, load_archive
from generator.ota_import import import_corpus, write_missing_declarations
from generator.signing import Signer
from generator.verify import verify_archive

from .conftest import ROOT

ARCHIVE = ROOT / "archive"


def test_archive_holds_the_whole_sample_corpus(corpus: Path) -> None:
    # Compared with the corpus, not counted: captures add to the archive (a pull request's check of
    # exact counts went red after the first one).
    imported = set()
    for metadata in corpus.glob("*/*/metadata.yaml"):
        meta = yaml.safe_load(metadata.read_text(encoding="utf-8"))
        key = f"{meta['service_slug']}/{meta['document_type_slug']}"
        imported |= {(key, Path(v["file"]).stem) for v in meta["versions"]}
    archive = load_archive(ARCHIVE)
    recorded = {(str(d.key), v.id) for d in archive.documents for v in d.versions}
    assert len(imported) == 247 and imported <= recorded
    assert archive.snapshot_count >= 63  # captures; 7 of them span two pages, so 70 raw files
    kinds = [v.kind for d in archive.documents for v in d.versions]
    assert kinds.count("first") == len(archive.documents)


def test_every_snapshot_has_its_raw_page_under_the_contract_name() -> None:
    # snapshots/<snapshot-id>.html, also for a capture of several pages (its page 1): a check that
    # knows only the contract finds the raw page from snapshot_id alone.
    versions = [v for d in load_archive(ARCHIVE).documents for v in d.versions if v.snapshot_id]
    assert versions
    missing = [f"{d}: {name}" for d, name in
               ((v.text_path.parent.parent, f"snapshots/{v.snapshot_id}.html") for v in versions)
               if not (d / name).is_file()]
    assert missing == []
    assert {v.snapshots[0].file for v in versions} == {f"snapshots/{v.snapshot_id}.html" for v in versions}


def test_archive_verifies() -> None:
    report = verify_archive(ARCHIVE)
    assert report.ok, report.problems[:5]
    archive = load_archive(ARCHIVE)
    assert report.signatures == 2 * archive.version_count + len(list(ARCHIVE.glob("*/*/snapshots/*.html")))


def test_stock_minisign_accepts_every_signed_file() -> None:
    minisign = shutil.which("minisign")
    assert minisign, "the stock minisign binary is required (apt-get install minisign)"
    files = sorted(ARCHIVE.glob("*/*/versions/*.md")) + sorted(ARCHIVE.glob("*/*/versions/*.json")) \
        + sorted(ARCHIVE.glob("*/*/snapshots/*.html"))
    raw = len(list(ARCHIVE.glob("*/*/snapshots/*.html")))
    assert raw >= 70 and len(files) == 2 * load_archive(ARCHIVE).version_count + raw
    failed = [f for f in files if subprocess.run(
        [minisign, "-Vqm", str(f), "-p", str(ARCHIVE / "minisign.pub")],
        capture_output=True, check=False).returncode != 0]
    assert failed == []


def test_one_byte_change_is_detected_by_both_verifiers(tmp_path: Path) -> None:
    copy = tmp_path / "archive"
    shutil.copytree(ARCHIVE, copy)
    victim = sorted(copy.glob("claude-ai/terms-of-service/versions/*.md"))[-1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x20
    victim.write_bytes(bytes(data))
    result = subprocess.run(["minisign", "-Vm", str(victim), "-p", str(copy / "minisign.pub")],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0
    report = verify_archive(copy)
    assert [Path(p.file).name for p in report.problems] == [victim.name]


def test_the_evidence_panel_says_where_each_raw_page_is_and_when_it_was_fetched(committed_site: Path) -> None:
    # Raw pages are not served by the site (their scripts would run there): the panel names the
    # signed file in the archive, and the time it was fetched when that is not the version's own.
    import lxml.html

    archive = load_archive(ROOT / "archive")
    named = later = 0
    for doc in archive.documents:
        for v in doc.versions:
            panel = lxml.html.fromstring((committed_site / str(doc.key) / v.id / "index.html").read_bytes())
            evidence = " ".join(panel.xpath("string(//section[@class='evidence'])").split())
            for page in v.snapshots:
                path = f"archive/{doc.key}/{page.file}"
                assert f"in the archive repository as {path}" in evidence
                assert (ROOT / path).is_file() and (ROOT / f"{path}.minisig").is_file()
                named += 1
                if page.fetched_at and page.fetched_at != v.captured_at:
                    assert f"fetched {page.fetched_at}" in evidence, (doc.key, v.id)
                    later += 1
    assert named > 60 and later > 5


def test_every_declaration_extracts_its_documents_latest_stored_page(demo_signer: Signer) -> None:
    """A selector gone stale (a page redesigned since, as Perplexity's left Framer) fails every capture;
    the latest stored page shows it before a scheduled run does. (Documents imported without a stored
    page of their latest version cannot be checked so.)"""
    from generator.archive import ArchiveWriter
    from generator.content import load_content
    from generator.reextract import ReextractResult, extract_stored

    content = load_content(ROOT / "content")
    writer = ArchiveWriter(ROOT / "archive", demo_signer)  # only reads: its key checks the stored pages
    outcomes = {}
    for doc in load_archive(ROOT / "archive").documents:
        declaration = content.declaration(doc.key)
        assert declaration is not None, doc.key
        text = extract_stored(doc, declaration, writer)
        outcomes[str(doc.key)] = text.outcome if isinstance(text, ReextractResult) else "extracted"
    failed = {key: result for key, result in outcomes.items() if result not in ("extracted", "no-snapshot")}
    assert not failed and list(outcomes.values()).count("extracted") >= 10, outcomes


def test_the_project_fixture_holds_what_importing_its_documents_writes(
        small_corpus: Path, project: Path, demo_signer: Signer, tmp_path: Path) -> None:
    """The `project` fixture copies its documents from the committed archive (so that the tests
    using it run without ../shared/): they must be the very bytes an import of the corpus writes,
    and their declarations those an import would write."""
    imported = tmp_path / "imported"
    import_corpus(small_corpus, ArchiveWriter(imported / "archive", demo_signer))
    write_missing_declarations(small_corpus, imported / "services")

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    made, copied = files(imported / "archive"), files(project / "archive")
    assert len(made) > 80 and made == copied
    for path in (imported / "services").glob("*.yaml"):
        assert yaml.safe_load(path.read_text()) == yaml.safe_load(
            (project / "content" / "services" / path.name).read_text())
