"""verify: every digest recomputed, every signature checked, every mismatch named by file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.verify import VerifyReport, _Verifier, verify_archive


@pytest.fixture
def archive(project: Path) -> Path:
    return project / "archive"


def first(archive: Path, pattern: str) -> Path:
    return sorted(archive.glob(pattern))[0]


def flip_byte(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def failing_files(archive: Path, public_key: Path | None = None) -> set[str]:
    report = verify_archive(archive, public_key)
    return {Path(p.file).name for p in report.problems}


def test_clean_archive_verifies(archive: Path) -> None:
    report = verify_archive(archive)
    assert report.ok, report.problems
    assert report.documents == 4 and report.versions > 20
    assert report.signatures == 2 * report.versions + len(list(archive.glob("*/*/snapshots/*.html")))


@pytest.mark.parametrize("pattern", [
    "*/*/versions/*.md", "*/*/versions/*.json", "*/*/snapshots/*.html",
])
def test_one_flipped_byte_is_reported_by_file(archive: Path, pattern: str) -> None:
    victim = first(archive, pattern)
    flip_byte(victim)
    assert victim.name in failing_files(archive)


def test_signature_of_another_file_is_caught(archive: Path) -> None:
    texts = sorted(archive.glob("*/*/versions/*.md"))
    a, b = texts[0], texts[1]
    shutil.copy(b, a)
    shutil.copy(b.with_name(b.name + ".minisig"), a.with_name(a.name + ".minisig"))
    report = verify_archive(archive)
    assert any(Path(p.file).name == a.name + ".minisig" and "trusted comment does not match" in p.message
               for p in report.problems), report.problems


def test_missing_signature_and_stray_files(archive: Path) -> None:
    sig = first(archive, "*/*/versions/*.md.minisig")
    sig.unlink()
    stray = sig.parent / "notes.txt"
    stray.write_text("who put this here?\n")
    leftover = sig.parent / "2030-01-01T00-00-00Z.md"  # text written, metadata not: a killed capture
    leftover.write_text("half-recorded\n")
    report = verify_archive(archive)
    names = {Path(p.file).name for p in report.problems}
    assert sig.name in names and stray.name in names and leftover.name not in names
    assert [Path(w.file).name for w in report.warnings] == [leftover.name]


@pytest.mark.parametrize("lost", ["the versions folder", "an older version's metadata"])
def test_history_that_lost_its_metadata_is_damage_not_leftovers(lost: str, archive: Path) -> None:
    # Only one version id without metadata, later than every recorded one, is what an interrupted
    # write leaves. Files of other such ids are reported, and the next write keeps them.
    from generator.archive import remove_leftovers

    doc = next(d.parent for d in sorted(archive.glob("*/*/snapshots")) if len(list(d.glob("*.html"))) > 1)
    versions = doc / "versions"
    if lost == "the versions folder":
        shutil.rmtree(versions)
        raw = sorted((doc / "snapshots").iterdir())
    else:
        oldest = next(p for p in sorted(versions.glob("*.json"))
                      if list((doc / "snapshots").glob(f"{p.stem}.*")))  # one with a raw page
        oldest.unlink()
        raw = sorted((doc / "snapshots").glob(f"{oldest.stem}.*"))
    assert raw
    report = verify_archive(archive)
    failed = {Path(p.file) for p in report.problems if "stray file" in p.message}
    assert not report.ok and not report.warnings
    assert set(raw) <= failed
    kept = sorted((doc / "snapshots").iterdir())
    assert remove_leftovers(doc) == [] and sorted((doc / "snapshots").iterdir()) == kept


@pytest.mark.parametrize("pattern", ["*/*/versions/*.md", "*/*/versions/*.md.minisig", "*/*/versions/*.json"])
def test_a_folder_in_place_of_a_file_is_reported_not_raised(pattern: str, archive: Path) -> None:
    victim = first(archive, pattern)
    victim.unlink()
    victim.mkdir()
    report = verify_archive(archive)
    assert [(p.file, p.message) for p in report.problems
            if "Is a directory" in p.message] == [(str(victim), "unreadable (Is a directory)")
                                                  if not victim.name.endswith(".minisig") else
                                                  (str(victim), "signature unreadable (Is a directory)")]


@pytest.mark.parametrize("pinned", [False, True])
def test_a_public_key_that_is_a_folder_is_reported_with_its_fix(pinned: bool, archive: Path) -> None:
    key = archive / "minisign.pub"
    if not pinned:
        key.unlink()
        key.mkdir()
    report = verify_archive(archive, archive if pinned else None)
    [problem] = report.problems
    assert "cannot read the public key (Is a directory)" in problem.message
    assert ("you trust" if pinned else "restore the archive's minisign.pub") in problem.fix


def test_pinned_public_key_of_another_signer_fails(archive: Path, key_pair: tuple[Path, Path]) -> None:
    report = verify_archive(archive, key_pair[1])
    assert not report.ok and all("signature does not verify" in p.message for p in report.problems)


def test_verify_cli_exit_status(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--archive", str(archive)]) == 0
    assert "OK" in capsys.readouterr().out
    victim = first(archive, "*/*/versions/*.md")
    flip_byte(victim)
    assert main(["verify", "--archive", str(archive)]) == 1
    assert f"FAIL {victim}" in capsys.readouterr().err


def _as_before(report: VerifyReport) -> tuple[object, ...]:
    return (report.documents, report.versions, report.snapshots, report.signatures, report.verified,
            report.good_signatures, report.file_facts)


def test_an_unchanged_document_takes_over_its_last_clean_check(archive: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    full = verify_archive(archive)
    assert len(full.proofs) == full.documents  # every document checked clean

    def no_check(*_: object) -> None:
        raise AssertionError("an unchanged document was checked again")

    monkeypatch.setattr(_Verifier, "document", no_check)
    again = verify_archive(archive, known_documents=full.proofs)
    assert _as_before(again) == _as_before(full) and again.proofs == full.proofs and again.ok


def _changed_signature(archive: Path) -> str:
    sig = first(archive, "*/*/versions/*.md.minisig")
    flip_byte(sig, offset=len(sig.read_bytes()) - 20)
    return sig.with_name(sig.name.removesuffix(".minisig")).name


def _stray(archive: Path) -> str:
    (first(archive, "*/*/versions/*.json").parent / "notes.txt").write_text("who put this here?\n")
    return "notes.txt"


def _text_changed(archive: Path) -> str:
    text = first(archive, "*/*/versions/*.md")
    text.write_text(text.read_text() + "\nAltered.\n")
    return text.name


@pytest.mark.parametrize("change", [_changed_signature, _stray, _text_changed])
def test_a_document_whose_files_changed_is_checked_again(archive: Path,
                                                         change: Callable[[Path], str]) -> None:
    proofs = verify_archive(archive).proofs
    failing = change(archive)
    report = verify_archive(archive, known_documents=proofs)
    assert failing in {Path(p.file).name for p in report.problems}
    assert len(report.proofs) == len(proofs) - 1  # the failing document keeps no proof


def test_checking_in_worker_processes_gives_the_same_report(archive: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Problems in two documents and leftovers of an interrupted write: the forked check must
    # report them all, in the same order, with the same proofs and facts as one process.
    flip_byte(first(archive, "*/*/versions/*.md"))
    flip_byte(sorted(archive.glob("*/*/versions/*.json"))[-1])
    (first(archive, "*/*/versions/*.md").parent / "stray.md").write_text("left over\n")
    monkeypatch.setattr("generator.verify.PARALLEL_MIN_DOCUMENTS", 2)
    from generator import verify, workers

    forks: list[int] = []  # the audit of the tests: this passed with the workers' path never taken

    def counted(*args: Any) -> Any:
        forks.append(1)
        return workers.fork_map(*args)

    monkeypatch.setattr(verify, "fork_map", counted)
    one = verify_archive(archive)
    assert not forks
    forked = verify_archive(archive, workers=2)
    assert forks == [1]
    assert len(one.problems) >= 3
    assert forked == one


def test_a_temporary_file_renamed_while_listed_is_no_crash(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by review: a verify run while a capture wrote stopped with "No such file or directory:
    # .../snapshots/.<id>.html.minisig.<random>.tmp", renamed into place since it was listed.
    import contextlib
    import os

    from generator import verify

    folder = tmp_path / "doc" / "snapshots"
    folder.mkdir(parents=True)
    (folder / "kept.html").write_text("kept")
    temp = folder / ".kept.html.minisig.abc123.tmp"
    temp.write_text("being written")
    real = os.scandir

    def listed_then_renamed(path: str | Path) -> contextlib.AbstractContextManager[list[os.DirEntry[str]]]:
        entries = list(real(path))
        if any(entry.name == temp.name for entry in entries):
            temp.unlink()  # after it was listed, before it is looked at
        return contextlib.nullcontext(entries)

    monkeypatch.setattr(os, "scandir", listed_then_renamed)
    assert [Path(row[0]).name for row in verify.document_files(tmp_path / "doc")] == ["kept.html"]


def test_a_logged_version_that_lost_its_metadata_is_damage_and_kept(archive: Path) -> None:
    """Found by review: with the latest version's metadata deleted, its text and raw page looked
    like an interrupted capture's (a single id without metadata, later than every other), and the
    next capture deleted them, though the check log names that version; `verify` pointed at the
    intact log. The log's word that it was recorded makes them damage: reported, never removed."""
    from generator.archive import remove_leftovers
    from generator.checklog import Observation, append_check
    from generator.model import DocKey
    from generator.signing import load_signer

    from .conftest import DEMO_KEY

    doc = next(d.parent for d in sorted(archive.glob("*/*/snapshots")) if list(d.glob("*.html")))
    key = DocKey(doc.parent.name, doc.name)
    latest = sorted((doc / "versions").glob("*.json"))[-1]
    sha256 = json.loads(latest.read_text())["sha256"]
    append_check(archive, load_signer(DEMO_KEY), key, Observation(
        checked_at="2030-01-01T00:00:00Z", outcome="unchanged", version_id=latest.stem, sha256=sha256))
    latest.unlink()
    (doc / "versions" / f"{latest.name}.minisig").unlink()
    left = sorted(p for folder in ("versions", "snapshots") for p in (doc / folder).glob(f"{latest.stem}.*"))
    assert left
    report = verify_archive(archive)
    assert not report.warnings
    logged = [p for p in report.problems if "names version" in p.message]
    assert logged and f"restore versions/{latest.stem}.json" in logged[0].fix
    files = [p for p in report.problems if Path(p.file) in left]
    assert len(files) == len(left) and all("do not delete it" in p.fix for p in files), files
    assert remove_leftovers(doc) == []
    assert left == sorted(p for folder in ("versions", "snapshots")
                          for p in (doc / folder).glob(f"{latest.stem}.*"))
