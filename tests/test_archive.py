"""Archive writing: atomic, canonical, immutable, bound to one key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.archive import ArchiveWriter, NewVersion, RawPage, dump_json, load_archive, write_atomic
from generator.model import DocKey, ProblemsError
from generator.signing import Signer, SigningError, load_signer

KEY = DocKey("acme", "privacy-policy")


def new_version(version_id: str = "2025-01-02T03-04-05Z", text: str = "We collect data.\n",
                pages: tuple[RawPage, ...] = ()) -> NewVersion:
    return NewVersion(KEY, version_id, text, version_id if pages else None, pages,
                      {"captured_at": "2025-01-02T03:04:05Z", "kind": "first", "technical": False,
                       "url": "https://acme.test/privacy", "final_url": None, "http_status": 200,
                       "source": None})


def test_dump_json_is_canonical() -> None:
    assert dump_json({"b": 1, "a": "é"}) == '{\n  "a": "é",\n  "b": 1\n}\n'.encode()


def test_write_atomic_skips_identical_bytes(tmp_path: Path) -> None:
    path = tmp_path / "d" / "f.txt"
    assert write_atomic(path, b"one")
    assert not write_atomic(path, b"one")
    assert write_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]  # no temp files left behind


def test_record_writes_the_contract_layout(tmp_path: Path, demo_signer: Signer) -> None:
    writer = ArchiveWriter(tmp_path / "archive", demo_signer)
    page = RawPage("2025-01-02T03-04-05Z.html", b"<html>raw</html>", "https://acme.test/privacy", None)
    assert writer.record(new_version(pages=(page,)))
    doc = tmp_path / "archive" / "acme" / "privacy-policy"
    names = sorted(str(p.relative_to(doc)) for p in doc.rglob("*") if p.is_file())
    assert names == [
        "snapshots/2025-01-02T03-04-05Z.html", "snapshots/2025-01-02T03-04-05Z.html.minisig",
        "versions/2025-01-02T03-04-05Z.json", "versions/2025-01-02T03-04-05Z.json.minisig",
        "versions/2025-01-02T03-04-05Z.md", "versions/2025-01-02T03-04-05Z.md.minisig",
    ]
    meta = json.loads((doc / "versions/2025-01-02T03-04-05Z.json").read_text())
    assert meta["document"] == "acme/privacy-policy" and meta["bytes"] == 17
    assert meta["snapshots"][0]["file"] == "snapshots/2025-01-02T03-04-05Z.html"
    assert (tmp_path / "archive" / "minisign.pub").exists()
    archive = load_archive(tmp_path / "archive")
    assert archive.version_count == 1 and archive.snapshot_count == 1
    assert archive.documents[0].latest.read_text() == "We collect data.\n"


def test_recording_the_same_version_twice_writes_nothing(tmp_path: Path, demo_signer: Signer) -> None:
    writer = ArchiveWriter(tmp_path, demo_signer)
    assert writer.record(new_version())
    assert not writer.record(new_version())


def test_a_recorded_version_is_never_rewritten(tmp_path: Path, demo_signer: Signer) -> None:
    writer = ArchiveWriter(tmp_path, demo_signer)
    writer.record(new_version())
    with pytest.raises(ProblemsError, match="version exists with other text"):
        writer.record(new_version(text="We sell data.\n"))
    assert load_archive(tmp_path).documents[0].latest.read_text() == "We collect data.\n"


def test_archive_of_another_key_is_refused(tmp_path: Path, demo_signer: Signer,
                                           key_pair: tuple[Path, Path]) -> None:
    ArchiveWriter(tmp_path / "a", demo_signer)
    with pytest.raises(SigningError, match=r"signed by key .* but the secret key given is"):
        ArchiveWriter(tmp_path / "a", load_signer(key_pair[0]))


def test_files_without_public_key_are_refused(tmp_path: Path, demo_signer: Signer) -> None:
    (tmp_path / "a" / "x").mkdir(parents=True)
    with pytest.raises(SigningError, match=r"no minisign\.pub"):
        ArchiveWriter(tmp_path / "a", demo_signer)


def test_malformed_metadata_is_reported_by_file(tmp_path: Path, demo_signer: Signer) -> None:
    ArchiveWriter(tmp_path, demo_signer).record(new_version())
    path = tmp_path / "acme/privacy-policy/versions/2025-01-02T03-04-05Z.json"
    path.write_text('{"id": "2025-01-02T03-04-05Z"}')
    with pytest.raises(ProblemsError, match=r"2025-01-02T03-04-05Z\.json: unreadable version metadata"):
        load_archive(tmp_path)


def test_a_folder_in_place_of_metadata_is_reported_by_file(tmp_path: Path, demo_signer: Signer) -> None:
    ArchiveWriter(tmp_path, demo_signer).record(new_version())
    path = tmp_path / "acme/privacy-policy/versions/2025-01-02T03-04-05Z.json"
    path.unlink()
    path.mkdir()
    with pytest.raises(ProblemsError, match=r"05Z\.json: unreadable version metadata \(Is a directory\)"):
        load_archive(tmp_path)


def test_metadata_nested_past_the_parsers_depth_is_reported_by_file(tmp_path: Path,
                                                                   demo_signer: Signer) -> None:
    ArchiveWriter(tmp_path, demo_signer).record(new_version())
    path = tmp_path / "acme/privacy-policy/versions/2025-01-02T03-04-05Z.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ProblemsError, match=r"2025-01-02T03-04-05Z\.json: unreadable version metadata"):
        load_archive(tmp_path)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("captured_at", -1, "field 'captured_at' is -1, not a string"),
    ("captured_at", "yesterday", "not a UTC time"),
    ("final_url", 7, "field 'final_url' is 7, not a string or null"),
    ("http_status", "200", "field 'http_status' is '200', not a number or null"),
    ("source", "OTA", "field 'source' is 'OTA', not an object or null"),
    # found by trying the verbs: a traceback in stats, in the trackers of the build, in every load
    ("bytes", 1e999, "field 'bytes' is inf, not a number of bytes"),
    ("bytes", "120", "field 'bytes' is '120', not a number of bytes"),
    ("snapshots", [{"file": 5, "sha256": "0" * 64, "bytes": 1}],
     "field 'snapshots[0].file' is 5, not a string"),
    ("snapshots", [{"file": "snapshots/2025-01-02T03-04-05Z.html", "sha256": "0" * 64, "bytes": 2.5}],
     "field 'snapshots[0].bytes' is 2.5, not a number of bytes"),
    # Found by review: capture reads the latest version's raw pages by these names, unchecked.
    ("snapshots", [{"file": "/proc/self/environ", "sha256": "0" * 64, "bytes": 1}],
     "field 'snapshots[0].file' is '/proc/self/environ', not a raw page's name"),
    ("snapshots", [{"file": "snapshots/../../../x.html", "sha256": "0" * 64, "bytes": 1}],
     "field 'snapshots[0].file' is 'snapshots/../../../x.html', not a raw page's name"),
    ("snapshot_id", "../../x", "field 'snapshot_id' is '../../x', not a version id"),
    ("snapshots", ["snapshots/x.html"], "snapshots[0] is 'snapshots/x.html', not an object"),
])
def test_a_field_of_another_type_is_reported_by_file_and_name(
        tmp_path: Path, demo_signer: Signer, field: str, value: object, message: str) -> None:
    # Found by fuzzing: a number for captured_at crashed the build where pages sort versions by time.
    ArchiveWriter(tmp_path, demo_signer).record(new_version())
    path = tmp_path / "acme/privacy-policy/versions/2025-01-02T03-04-05Z.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {field: value}))
    with pytest.raises(ProblemsError, match=re.escape(message)):
        load_archive(tmp_path)
