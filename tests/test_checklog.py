"""The check log: signed, hash-chained, append-only; tampering is reported and a crash is harmless."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import generator.checklog
from generator.archive import ArchiveWriter, NewVersion, sha256_hex, write_atomic
from generator.checklog import (
    CHECKS_FILE,
    GENESIS,
    HEAD_FILE,
    Check,
    Observation,
    append_check,
    chain,
    entry_bytes,
    parse_line,
    read_checks,
    serialize_line,
    split_lines,
    verify_check_log,
)
from generator.model import DocKey, ProblemsError
from generator.signing import Signer, load_signer

from .conftest import ROOT

KEY = DocKey("acme", "privacy-policy")
V1, V2 = "2025-01-01T00-00-00Z", "2025-01-07T00-00-00Z"
TEXT_SHA = "ab" * 32
URL = "https://acme.test/privacy"

# One of each outcome; the failures name the latest version, for "unchanged since".
OBSERVATIONS = (
    Observation(checked_at="2025-01-01T00:00:00Z", outcome="new-version", http_status=200,
                version_id=V1, final_url=URL, sha256=TEXT_SHA),
    Observation(checked_at="2025-01-02T00:00:00Z", outcome="unchanged", http_status=200,
                version_id=V1, final_url=URL, sha256=TEXT_SHA),
    Observation(checked_at="2025-01-03T00:00:00Z", outcome="fetch-failed", reason="connection reset",
                version_id=V1),
    Observation(checked_at="2025-01-04T00:00:00Z", outcome="http-error", reason="Service Unavailable",
                http_status=503, version_id=V1, final_url=URL),
    Observation(checked_at="2025-01-05T00:00:00Z", outcome="blocked", reason="captcha page",
                http_status=403, version_id=V1, final_url=URL),
    Observation(checked_at="2025-01-06T00:00:00Z", outcome="extraction-failed",
                reason="select '#terms' matched nothing", http_status=200, version_id=V1, final_url=URL),
    Observation(checked_at="2025-01-07T00:00:00Z", outcome="new-version", http_status=200,
                version_id=V2, final_url=URL, sha256="cd" * 32),
)


class Killed(BaseException):
    """The process dying: not an Exception, so nothing on the way up handles it."""


def record_version(root: Path, signer: Signer, version_id: str) -> None:
    captured_at = f"{version_id[:13]}:{version_id[14:16]}:{version_id[17:]}"  # 2025-01-01T00:00:00Z
    ArchiveWriter(root, signer).record(NewVersion(
        KEY, version_id, f"Text of {version_id}.\n", None, (),
        {"captured_at": captured_at, "kind": "change", "technical": False, "url": URL,
         "final_url": URL, "http_status": 200, "source": None}))


@pytest.fixture
def root(tmp_path: Path, demo_signer: Signer) -> Path:
    root = tmp_path / "archive"
    for version_id in (V1, V2):
        record_version(root, demo_signer, version_id)
    return root


@pytest.fixture
def doc(root: Path, demo_signer: Signer) -> Path:
    """A document folder whose log holds one check of each outcome."""
    for observation in OBSERVATIONS:
        append_check(root, demo_signer, KEY, observation)
    return root / "acme" / "privacy-policy"


def problems(directory: Path, signer: Signer) -> list[tuple[str, str, str]]:
    return [(Path(p.file).name, p.key, p.message) for p in verify_check_log(directory, signer.public_key())]


def lines_of(doc: Path) -> list[bytes]:
    return split_lines((doc / CHECKS_FILE).read_bytes())


def minisign_verify(data: Path, signature: Path, public_key: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["minisign", "-Vm", str(data), "-x", str(signature), "-p", str(public_key)],
                          capture_output=True, text=True, check=False)


def test_checks_verify_and_read_back_in_order(doc: Path, demo_signer: Signer) -> None:
    assert problems(doc, demo_signer) == []
    checks = read_checks(doc)
    assert [c.seq for c in checks] == list(range(1, 8))
    assert [c.outcome for c in checks] == [o.outcome for o in OBSERVATIONS]
    assert checks[0].prev == GENESIS and checks[0].document == "acme/privacy-policy"
    assert [c.prev for c in checks[1:]] == [sha256_hex(line) for line in lines_of(doc)[:-1]]
    assert checks[3].http_status == 503 and checks[3].reason == "Service Unavailable"


def test_log_is_canonical_json_lines_and_appending_only_adds_lines(doc: Path, root: Path,
                                                                    demo_signer: Signer) -> None:
    before = (doc / CHECKS_FILE).read_bytes()
    check = append_check(root, demo_signer, KEY, replace(OBSERVATIONS[1], checked_at="2025-01-08T00:00:00Z",
                                                         version_id=V2))
    after = (doc / CHECKS_FILE).read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    last = lines_of(doc)[-1]
    assert parse_line(last)[0] == check
    assert last.startswith(b'{"entry":' + entry_bytes(check) + b',"signature":')  # what is signed, verbatim
    assert after.endswith(b"\n") and b"\r" not in after


def test_stock_minisign_accepts_the_head_and_each_line(doc: Path, root: Path, tmp_path: Path) -> None:
    result = minisign_verify(doc / CHECKS_FILE, doc / HEAD_FILE, root / "minisign.pub")
    assert result.returncode == 0, result.stderr
    assert f"document:acme/privacy-policy\tentries:7\thead:{sha256_hex(lines_of(doc)[-1])}" in result.stdout
    check, signature = parse_line(lines_of(doc)[2])
    (tmp_path / "entry").write_bytes(entry_bytes(check))
    (tmp_path / "entry.minisig").write_text(signature)
    result = minisign_verify(tmp_path / "entry", tmp_path / "entry.minisig", root / "minisign.pub")
    assert result.returncode == 0, result.stderr
    assert "seq:3" in result.stdout


def test_the_methodology_pages_commands_verify_a_version_and_the_log_as_written(
        doc: Path, root: Path, tmp_path: Path) -> None:
    # What a reader downloads from the site: a version's files, named as the site names them, the
    # key, the log and its signature. Then every command block of the page's "verify" section, run
    # as written (only the example version id replaced).
    page = (ROOT / "content" / "pages" / "methodology.md").read_text()
    section = page.split("{#verify}", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    example = re.search(r"minisign -Vm (\S+)\.md", section)
    assert len(blocks) == 3 and example is not None
    download = tmp_path / "download"
    download.mkdir()
    versions = doc / "versions"
    for suffix in (".md", ".md.minisig", ".json", ".json.minisig"):
        (download / f"{V2}{suffix}").write_bytes((versions / f"{V2}{suffix}").read_bytes())
    for name in (CHECKS_FILE, HEAD_FILE):
        (download / name).write_bytes((doc / name).read_bytes())
    (download / "minisign.pub").write_bytes((root / "minisign.pub").read_bytes())
    said = []
    for block in blocks:
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", block.replace(example.group(1), V2)],
                             cwd=download, capture_output=True, text=True, check=False)
        assert run.returncode == 0, (block, run.stdout, run.stderr)
        assert run.stdout.count("Signature and comment signature verified") == block.count("minisign -Vm")
        said.append(run.stdout)
    assert f"version:{V2}" in said[0] and f"file:versions/{V2}.json" in said[0]
    assert f"entries:7\thead:{sha256_hex(lines_of(doc)[-1])}" in said[1] and "seq:3" in said[2]


def rewrite(doc: Path, change: Callable[[list[bytes]], list[bytes]]) -> None:
    (doc / CHECKS_FILE).write_bytes(b"".join(change(lines_of(doc))))


def failure_now_unchanged(lines: list[bytes]) -> list[bytes]:
    """Rewrite the fetch-failed check (line 3) into a well-formed `unchanged`, keeping its signature."""
    check, signature = parse_line(lines[2])
    edited = replace(check, outcome="unchanged", reason="", sha256=TEXT_SHA)
    return [*lines[:2], serialize_line(edited, signature), *lines[3:]]


def chain_break(line: int) -> tuple[str, str, str]:
    return (CHECKS_FILE, f"line {line}", "where the chain expects")


SHORTER = (HEAD_FILE, "", "signed head names 7 entries but the log holds 6: entries were removed")
HEAD_FAILS = (HEAD_FILE, "", "signed head does not verify over the first 7 lines")


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(lambda ls: ls[:3] + ls[4:], [chain_break(4), SHORTER], id="middle-entry-removed"),
    pytest.param(failure_now_unchanged,
                 [(CHECKS_FILE, "line 3", "signature does not verify"), chain_break(4), HEAD_FAILS],
                 id="failure-rewritten-as-unchanged"),
    pytest.param(lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]], [chain_break(3), chain_break(4), chain_break(5),
                                                           HEAD_FAILS],
                 id="entries-reordered"),
    pytest.param(lambda ls: ls[:-1], [SHORTER], id="tail-truncated"),
    pytest.param(lambda ls: [ls[0][:-1] + b" \n", *ls[1:]],
                 [(CHECKS_FILE, "line 1", "not in the canonical form"), chain_break(2), HEAD_FAILS],
                 id="reformatted"),
    pytest.param(lambda ls: [ls[0].replace(b'{"entry":', b'{"entry":{},"entry":', 1), *ls[1:]],
                 [(CHECKS_FILE, "line 1", "not in the canonical form"), chain_break(2), HEAD_FAILS],
                 id="duplicate-key"),
])
def test_tampering_is_reported_where_it_happened(doc: Path, demo_signer: Signer,
                                                 change: Callable[[list[bytes]], list[bytes]],
                                                 expected: list[tuple[str, str, str]]) -> None:
    rewrite(doc, change)
    found = problems(doc, demo_signer)
    assert len(found) == len(expected), found
    for (file, key, message), (want_file, want_key, fragment) in zip(found, expected, strict=True):
        assert (file, key) == (want_file, want_key) and fragment in message, found


def test_entry_forged_without_the_key_is_reported(doc: Path, demo_signer: Signer,
                                                  key_pair: tuple[Path, Path]) -> None:
    forger = load_signer(key_pair[0])
    lines = lines_of(doc)
    forged = chain(KEY, lines, replace(OBSERVATIONS[1], checked_at="2025-01-08T00:00:00Z", version_id=V2))
    forged_line = serialize_line(forged, forger.sign(entry_bytes(forged), "").decode())
    (doc / CHECKS_FILE).write_bytes(b"".join(lines) + forged_line)
    assert [(f, k) for f, k, m in problems(doc, demo_signer) if "signature does not verify" in m] == [
        (CHECKS_FILE, "line 8")]


def test_log_of_another_document_and_removed_version_are_reported(doc: Path, demo_signer: Signer) -> None:
    other = doc.parent / "terms-of-service"
    (other / "versions").mkdir(parents=True)
    for name in (CHECKS_FILE, HEAD_FILE):
        (other / name).write_bytes((doc / name).read_bytes())
    found = problems(other, demo_signer)
    assert {k for _, k, m in found if "entry of another document (acme/privacy-policy)" in m} == {
        f"line {n}" for n in range(1, 8)}
    assert (HEAD_FILE, "", "trusted comment of the signed head does not match the log") in found
    (doc / "versions" / f"{V2}.json").unlink()
    assert problems(doc, demo_signer) == [
        (CHECKS_FILE, "line 7", f"names version {V2}, which is not in versions/")]
    # the log is intact: the fix names the version's metadata, not the log (found by review)
    fixes = [p.fix for p in verify_check_log(doc, demo_signer.public_key())]
    assert fixes == [f"the log is intact; restore versions/{V2}.json and its .minisig (the version's "
                     "metadata) from git history"]


def test_truncation_with_the_head_rolled_back_is_only_caught_by_a_head_kept_elsewhere(
        root: Path, demo_signer: Signer) -> None:
    for observation in OBSERVATIONS[:-1]:
        append_check(root, demo_signer, KEY, observation)
    doc = root / "acme" / "privacy-policy"
    old_log, old_head = (doc / CHECKS_FILE).read_bytes(), (doc / HEAD_FILE).read_bytes()
    append_check(root, demo_signer, KEY, OBSERVATIONS[-1])
    kept_head = (doc / HEAD_FILE).read_bytes()
    (doc / CHECKS_FILE).write_bytes(old_log)
    (doc / HEAD_FILE).write_bytes(old_head)
    assert problems(doc, demo_signer) == []  # as CT without gossip: a consistent older state
    (doc / HEAD_FILE).write_bytes(kept_head)
    assert problems(doc, demo_signer) == [(HEAD_FILE, "", "signed head names 7 entries but the log holds 6: "
                                           "entries were removed from its end")]


def test_append_refuses_to_extend_a_log_that_does_not_verify(doc: Path, root: Path,
                                                             demo_signer: Signer) -> None:
    rewrite(doc, lambda ls: ls[:-1])
    state = {p.name: p.read_bytes() for p in doc.iterdir() if p.is_file()}
    with pytest.raises(ProblemsError, match="entries were removed from its end"):
        append_check(root, demo_signer, KEY, OBSERVATIONS[1])
    assert {p.name: p.read_bytes() for p in doc.iterdir() if p.is_file()} == state


NOON = "2025-01-01T12:00:00Z"


@pytest.mark.parametrize(("observation", "message"), [
    (Observation(checked_at=NOON, outcome="http-error", reason="Gone"), "needs its http_status"),
    (Observation(checked_at=NOON, outcome="fetch-failed"), "a failed check needs a reason"),
    (Observation(checked_at="2025-01-01 12:00:00", outcome="fetch-failed", reason="x"), "checked_at must be"),
    (Observation(checked_at=NOON, outcome="unchanged", version_id=V1), "sha256"),
    (Observation(checked_at=NOON, outcome="fetch-failed", reason="x", sha256=TEXT_SHA), "sha256"),
    (Observation(checked_at=NOON, outcome="new-version", version_id="2030-01-01T00-00-00Z", sha256=TEXT_SHA),
     "record it before its check"),
])
def test_malformed_observations_are_refused(root: Path, demo_signer: Signer, observation: Observation,
                                            message: str) -> None:
    with pytest.raises(ValueError, match=message):
        append_check(root, demo_signer, KEY, observation)
    assert not (root / "acme" / "privacy-policy" / CHECKS_FILE).exists()


@pytest.mark.parametrize("existing", [0, 3])
@pytest.mark.parametrize("writes_before_kill", [0, 1])
def test_a_kill_between_writes_leaves_a_log_that_verifies(root: Path, demo_signer: Signer,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          existing: int, writes_before_kill: int) -> None:
    doc = root / "acme" / "privacy-policy"
    for observation in OBSERVATIONS[:existing]:
        append_check(root, demo_signer, KEY, observation)
    done: list[Path] = []

    def write_then_die(path: Path, data: bytes) -> bool:
        if len(done) == writes_before_kill:
            # Dying after the temp file is written but before the rename leaves it behind.
            (path.parent / f".{path.name}.killed.tmp").write_bytes(data[: len(data) // 2])
            raise Killed
        done.append(path)
        return write_atomic(path, data)

    monkeypatch.setattr(generator.checklog, "write_atomic", write_then_die)
    with pytest.raises(Killed):
        append_check(root, demo_signer, KEY, OBSERVATIONS[existing])
    monkeypatch.undo()
    assert problems(doc, demo_signer) == []
    assert len(read_checks(doc)) == existing + writes_before_kill
    if existing and writes_before_kill:  # the head is one entry behind: it signs the log's prefix
        (root / "prefix").write_bytes(b"".join(lines_of(doc)[:existing]))
        assert minisign_verify(root / "prefix", doc / HEAD_FILE, root / "minisign.pub").returncode == 0

    check = append_check(root, demo_signer, KEY, OBSERVATIONS[existing + 1])
    assert problems(doc, demo_signer) == []
    assert [c.seq for c in read_checks(doc)] == list(range(1, check.seq + 1))
    result = minisign_verify(doc / CHECKS_FILE, doc / HEAD_FILE, root / "minisign.pub")
    assert result.returncode == 0, result.stderr


def test_no_log_is_no_problem_and_reads_as_no_checks(root: Path, demo_signer: Signer) -> None:
    doc = root / "acme" / "privacy-policy"
    assert problems(doc, demo_signer) == [] and read_checks(doc) == []


def test_read_checks_reports_unreadable_lines(doc: Path) -> None:
    rewrite(doc, lambda ls: [*ls[:4], b"not json\n", *ls[4:]])
    with pytest.raises(ProblemsError, match="line 5: not a check log entry"):
        read_checks(doc)


def test_check_is_an_observation_in_a_chain() -> None:
    check = chain(KEY, [], OBSERVATIONS[0])
    assert isinstance(check, Check) and (check.seq, check.prev) == (1, GENESIS)
    assert chain(KEY, [b"x\n"], OBSERVATIONS[1]).prev == sha256_hex(b"x\n")


def test_an_entry_removed_from_the_middle_is_not_said_to_be_from_the_end(doc: Path,
                                                                          demo_signer: Signer) -> None:
    """Found by review: the head's problem said "removed from its end" under the broken link that
    shows where the entry was removed from."""
    rewrite(doc, lambda ls: ls[:2] + ls[3:])
    found = problems(doc, demo_signer)
    assert any(k == "line 3" and "an entry before it was removed" in m for _, k, m in found), found
    head = [m for name, _, m in found if name == HEAD_FILE]
    assert head == ["signed head names 7 entries but the log holds 6: entries were removed"]
