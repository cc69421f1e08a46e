"""import-ota on real Open Terms Archive data: complete, faithful, idempotent, incremental."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.archive import ArchiveWriter, NewVersion, RawPage, load_archive
from generator.content import load_content
from generator.model import DocKey, ProblemsError
from generator.normalize import canonical_markdown
from generator.ota_import import import_corpus
from generator.signing import Signer

from .conftest import tree_state


def test_import_records_every_version_and_snapshot(small_corpus: Path, tmp_path: Path,
                                                   demo_signer: Signer) -> None:
    reports = import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    expected_versions = sum(len(yaml.safe_load((d / "metadata.yaml").read_text())["versions"])
                            for d in small_corpus.glob("*/*"))
    archive = load_archive(tmp_path / "a")
    assert archive.version_count == expected_versions == sum(r.versions for r in reports)
    assert len(archive.documents) == 4
    stored = sorted(p.read_bytes() for p in small_corpus.glob("*/*/snapshots/*.html"))
    archived = sorted(p.read_bytes() for p in (tmp_path / "a").glob("*/*/snapshots/*.html"))
    assert archived == stored  # every raw page, byte for byte (names: snapshot_page_names)


def test_imported_version_is_faithful(small_corpus: Path, tmp_path: Path, demo_signer: Signer) -> None:
    import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    meta = yaml.safe_load((small_corpus / "openai/terms-of-service/metadata.yaml").read_text())
    entry = meta["versions"][1]
    version_id = Path(entry["file"]).stem
    original = (small_corpus / "openai/terms-of-service" / entry["file"]).read_bytes()
    doc = tmp_path / "a/openai/terms-of-service/versions"
    text = (doc / f"{version_id}.md").read_bytes()
    assert text.decode() == canonical_markdown(original.decode())
    data = json.loads((doc / f"{version_id}.json").read_text())
    assert data["captured_at"] == entry["timestamp"]
    assert data["kind"] == entry["kind"] == "change"
    assert data["sha256"] == hashlib.sha256(text).hexdigest()
    assert data["source"]["original_sha256"] == entry["sha256"]
    assert data["source"]["ref"] == f"OpenTermsArchive/genai-contrib-versions@{entry['commit']}"
    assert data["url"] == "https://openai.com/policies/terms-of-use"


def test_multi_page_capture_is_one_snapshot_of_several_pages(small_corpus: Path, tmp_path: Path,
                                                             demo_signer: Signer) -> None:
    import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    doc = next(d for d in load_archive(tmp_path / "a").documents
               if d.key == DocKey("google-generative-ai-services", "terms-of-service"))
    with_pages = [v for v in doc.versions if v.snapshot_id]
    assert len(with_pages) == 1
    version = with_pages[0]
    assert [p.file for p in version.snapshots] == [
        f"snapshots/{version.id}.html", f"snapshots/{version.id}.2.html"]  # page 1 under the contract's name
    assert version.url is None and version.source and len(version.source["snapshots"]) == 2  # type: ignore[arg-type]


def test_second_import_changes_no_file(small_corpus: Path, tmp_path: Path, demo_signer: Signer) -> None:
    import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    before = tree_state(tmp_path / "a")
    reports = import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    assert sum(r.new_versions for r in reports) == 0
    assert tree_state(tmp_path / "a") == before


def test_reimport_after_one_new_version_writes_only_that_version(
        small_corpus: Path, tmp_path: Path, demo_signer: Signer) -> None:
    meta_path = small_corpus / "openai/terms-of-service/metadata.yaml"
    full = meta_path.read_text()
    meta = yaml.safe_load(full)
    last = Path(meta["versions"][-1]["file"]).stem
    meta["versions"] = meta["versions"][:-1]
    meta_path.write_text(yaml.safe_dump(meta))
    import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    before = tree_state(tmp_path / "a")
    meta_path.write_text(full)
    reports = import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    assert sum(r.new_versions for r in reports) == 1
    after = tree_state(tmp_path / "a")
    changed = sorted(name for name in after if before.get(name) != after[name])
    assert all(last in name for name in changed), changed
    assert len(changed) >= 4  # .md, .md.minisig, .json, .json.minisig (+ its snapshot)


def test_corrupt_source_is_refused(small_corpus: Path, tmp_path: Path, demo_signer: Signer) -> None:
    victim = sorted((small_corpus / "firefox/privacy-policy/versions").glob("*.md"))[2]
    victim.write_bytes(victim.read_bytes() + b"tampered")
    with pytest.raises(ProblemsError, match="does not match its recorded digest"):
        import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))


@pytest.mark.parametrize("which", ["metadata.yaml", "a version's text"])
def test_a_file_that_is_not_utf8_is_refused_naming_it(which: str, small_corpus: Path, tmp_path: Path,
                                                       demo_signer: Signer) -> None:
    # Found by trying the verbs: both were UnicodeDecodeError tracebacks.
    folder = small_corpus / "firefox/privacy-policy"
    metadata = folder / "metadata.yaml"
    if which == "metadata.yaml":
        metadata.write_bytes(metadata.read_bytes() + b"\xff")
        said = "metadata.yaml: not UTF-8"
    else:
        victim = sorted((folder / "versions").glob("*.md"))[1]
        data = victim.read_bytes() + b"\xff\xfe"
        victim.write_bytes(data)
        old_sha = yaml.safe_load(metadata.read_text(encoding="utf-8"))["versions"][1]["sha256"]
        new_sha = hashlib.sha256(data).hexdigest()
        metadata.write_text(metadata.read_text(encoding="utf-8").replace(old_sha, new_sha), encoding="utf-8")
        said = f"{victim.name}' is not UTF-8"
    with pytest.raises(ProblemsError) as caught:
        import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    problems = caught.value.problems
    assert any(said in f"{p.file}: {p.message}" and p.fix for p in problems), problems


def test_a_file_larger_than_any_capture_is_refused(small_corpus: Path, tmp_path: Path, demo_signer: Signer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a security review: import took any size of text, which every build then renders and
    analyses, where capture refuses a page past its body limit."""
    monkeypatch.setattr("generator.ota_import.MAX_FILE_BYTES", 1000)  # the corpus's texts are larger
    with pytest.raises(ProblemsError) as caught:
        import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    said = [f"{p.message} (fix: {p.fix})" for p in caught.value.problems]
    assert any("bytes, more than capture would keep of any page (1,000)" in m and "no policy page" in m
               for m in said), said
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").rglob("*.md"))


def test_a_file_outside_the_documents_folder_is_refused(small_corpus: Path, tmp_path: Path,
                                                        demo_signer: Signer) -> None:
    metadata = small_corpus / "firefox/privacy-policy/metadata.yaml"
    first = sorted((small_corpus / "firefox/privacy-policy/versions").glob("*.md"))[0].name
    outside = tmp_path / first  # named as the version it stands for: only its place is wrong
    outside.write_text("Not part of the export.\n", encoding="utf-8")
    traversal = "../" * len(metadata.parent.relative_to(tmp_path).parts) + outside.name
    metadata.write_text(metadata.read_text(encoding="utf-8").replace(f"versions/{first}", traversal),
                        encoding="utf-8")
    with pytest.raises(ProblemsError, match="is outside the document's folder"):
        import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))


@pytest.mark.parametrize(("edit", "key"), [
    (lambda meta: meta["versions"].__setitem__(0, 4), "versions[0]"),
    (lambda meta: meta["versions"][0].__setitem__("snapshots", "x"), "versions[0].snapshots"),
    (lambda meta: meta["versions"][-1]["declaration"]["terms"].__setitem__("combine", [True]),
     "declaration"),
    (lambda meta: meta.__setitem__("source", "OTA"), "source"),
    # Found by trying the verbs: the problem named the archive's file, not the export's key.
    (lambda meta: meta["versions"][-1]["declaration"].__setitem__("urls", [5]),
     ".declaration.urls"),
    # Found by review: written as given, such a version made every later load of the archive fail.
    (lambda meta: meta["versions"][0].__setitem__("kind", "major"), "versions[0].kind"),
    (lambda meta: meta["versions"][1].pop("timestamp"), "versions[1].timestamp"),
    # Found by trying the verbs: imported with its id from the file's name and its time from here.
    (lambda meta: meta["versions"][1].__setitem__("timestamp", "2019-01-01T00:00:00Z"),
     "versions[1].timestamp"),
    # Found by a security review: a traceback each (datetime not JSON serializable; a surrogate not
    # UTF-8; a signature's comment with a line break), where a problem names the key.
    (lambda meta: meta["versions"][0].__setitem__(
        "snapshots", [{"stored_as": "x.html", "fetched_at": datetime(2024, 1, 1, tzinfo=UTC)}]),
     "versions[0].snapshots[0].fetched_at"),
    (lambda meta: meta["versions"][-1]["declaration"].__setitem__("urls", ["https://x.example/\ud800"]),
     ".declaration.urls[0]"),
    (lambda meta: meta.__setitem__("service_slug", "firefox\n"), "service_slug"),
])
def test_a_metadata_file_of_another_shape_is_refused_with_its_key(
        edit: Callable[[dict[str, Any]], None], key: str, small_corpus: Path, tmp_path: Path,
        demo_signer: Signer) -> None:
    # Found by fuzzing: such exports raised AttributeError or TypeError from deep in the import.
    path = small_corpus / "firefox/privacy-policy/metadata.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(meta)
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        import_corpus(small_corpus, ArchiveWriter(tmp_path / "a", demo_signer))
    assert any(key in p.key and p.fix for p in caught.value.problems), caught.value.problems


def test_import_writes_valid_declarations(project: Path) -> None:
    content = load_content(project / "content")
    decl = content.declaration(DocKey("google-generative-ai-services", "terms-of-service"))
    assert decl and [p.url for p in decl.pages] == [
        "https://policies.google.com/terms?hl=en-GB&gl=IE",
        "https://policies.google.com/terms/generative-ai?hl=en-GB&gl=IE"]


def test_folder_that_is_not_an_export_is_refused(tmp_path: Path, demo_signer: Signer) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProblemsError, match=r"no <service>/<doc-type>/metadata\.yaml found"):
        import_corpus(tmp_path / "empty", ArchiveWriter(tmp_path / "a", demo_signer))


def test_import_cli_needs_a_key(small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import main

    monkeypatch.delenv("CLAUSEWATCH_SECRET_KEY", raising=False)
    assert main(["import-ota", str(small_corpus), "--archive", str(tmp_path / "a")]) == 1
    assert "no signing key" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_the_writer_never_writes_a_version_the_archive_could_not_load(tmp_path: Path,
                                                                      demo_signer: Signer) -> None:
    writer = ArchiveWriter(tmp_path / "archive", demo_signer)
    key = DocKey("acme", "terms-of-service")
    page = RawPage("2024-01-01T00-00-00Z.html", b"<p>Terms</p>", "https://acme.example/terms", None)
    for metadata in ({"captured_at": "2024-01-01T00:00:00Z", "kind": "major"},
                     {"captured_at": "yesterday", "kind": "first"},
                     {"captured_at": "2024-01-01T00:00:00Z", "kind": "first", "url": 4}):
        version = NewVersion(key, "2024-01-01T00-00-00Z", "# Terms\n", "2024-01-01T00-00-00Z", (page,),
                             {"technical": False, "url": None, **metadata})
        with pytest.raises(ProblemsError, match="not recorded"):
            writer.record(version)
        assert not [p for p in (tmp_path / "archive").rglob("*") if p.is_file() and p.name != "minisign.pub"]
    assert load_archive(tmp_path / "archive").documents == ()
