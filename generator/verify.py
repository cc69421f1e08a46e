"""Recompute every digest and check every signature in an archive, reporting by file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import minisign

from .archive import (
    PUBLIC_KEY_FILE,
    SNAPSHOTS_DIR,
    VERSIONS_DIR,
    archive_folder_problem,
    document_dirs,
    leftover_id,
    logged_version_ids,
    parse_version,
    sha256_hex,
)
from .checklog import CHECKS_FILE, HEAD_FILE, verify_check_log
from .model import DocKey, Problem
from .signing import SIGNATURE_SUFFIX, SigningError, key_id_of, parse_trusted_comment, read_public_key
from .workers import can_fork, fork_map

LEFTOVER = "left by an interrupted capture: no version metadata names it, so it is not part of history"

# Fields a signature's trusted comment must carry, and the value each must have.
Expected = dict[str, str]


@dataclass
class VerifyReport:
    documents: int = 0
    versions: int = 0
    snapshots: int = 0
    signatures: int = 0
    key_id: str = ""  # of the key the archive was checked against
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # harmless leftovers of an interrupted write
    verified: dict[Path, str] = field(default_factory=dict)  # signed file → its SHA-256, when all checked
    good_signatures: set[str] = field(default_factory=set)  # memo keys (see `_memo_key`) of this run
    file_facts: dict[str, list[object]] = field(default_factory=dict)  # path → [size, mtime_ns, inode, sha]
    proofs: dict[str, DocumentProof] = field(default_factory=dict)  # document folder → its clean check

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, other: VerifyReport) -> None:
        """Take in the report of other documents."""
        self.documents += other.documents
        self.versions += other.versions
        self.snapshots += other.snapshots
        self.signatures += other.signatures
        self.problems += other.problems
        self.warnings += other.warnings
        self.verified.update(other.verified)
        self.good_signatures |= other.good_signatures
        self.file_facts.update(other.file_facts)
        self.proofs.update(other.proofs)


# What a document's clean check established, for a later run to reuse while none of the document's
# files changed (JSON-able, for the build cache): "files" [[path, size, mtime_ns, inode], ...] taken
# before the check; "facts" [[path, size, mtime_ns, inode, sha256], ...] of the files it hashed;
# "verified" the signed files that verified; "good" signature memo keys; "counts" [versions,
# snapshots, signatures].
DocumentProof = dict[str, list[Any]]


def document_files(directory: Path) -> list[list[Any]]:
    """[path, size, mtime_ns, inode] of every file under a document folder, sorted."""
    found = []
    folders = [directory]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                else:
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        # a capture's temporary file, renamed into place since it was listed
                        # (one running meanwhile): gone, so nothing to check
                        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                            continue
                        raise
                    found.append([entry.path, stat.st_size, stat.st_mtime_ns, stat.st_ino])
    return sorted(found)


def unreadable(err: OSError) -> str:
    """How a file that cannot be read is reported: missing, or there but not a readable file."""
    if isinstance(err, FileNotFoundError):
        return "missing"
    return f"unreadable ({err.strerror or err})"


def _memo_key(public_key: bytes, data_sha: str, signature: bytes) -> str:
    return sha256_hex(public_key + b"\0" + data_sha.encode() + b"\0" + signature)


class _Verifier:
    def __init__(self, public_key: minisign.PublicKey, report: VerifyReport,
                 known_good: frozenset[str], known_files: Mapping[str, Sequence[object]],
                 known_documents: Mapping[str, DocumentProof]) -> None:
        self.public_key = public_key
        self.key_bytes = bytes(public_key)
        self.report = report
        self.known_good = known_good
        self.known_files = known_files
        self.known_documents = known_documents

    def proven(self, directory: Path, files: list[list[Any]]) -> bool:
        """Take over an earlier clean check of this document if none of its files changed since
        (same names, sizes, mtimes and inodes: git's test for an unchanged file)."""
        proof = self.known_documents.get(str(directory))
        if proof is None or proof["files"] != files:
            return False
        verified = set(proof["verified"])
        versions, snapshots, signatures = proof["counts"]
        self.report.add(VerifyReport(
            1, versions, snapshots, signatures,
            verified={Path(path): str(facts[-1]) for path, *facts in proof["facts"] if path in verified},
            good_signatures=set(proof["good"]), file_facts={path: facts for path, *facts in proof["facts"]},
            proofs={str(directory): proof}))
        return True

    def check_document(self, directory: Path) -> None:
        """document(), or its earlier result when nothing in the folder changed. Only a check that
        found nothing wrong is remembered: a document with problems is checked every time."""
        files = document_files(directory)  # before the check: a file changed during it is new next time
        if self.proven(directory, files):
            return
        whole, self.report = self.report, VerifyReport()  # this document's part, apart
        try:
            self.document(directory)
        finally:
            part, self.report = self.report, whole
        if not part.problems and not part.warnings:
            part.proofs[str(directory)] = {
                "files": files, "facts": sorted([path, *facts] for path, facts in part.file_facts.items()),
                "verified": sorted(map(str, part.verified)), "good": sorted(part.good_signatures),
                "counts": [part.versions, part.snapshots, part.signatures]}
        whole.add(part)

    def fail(self, path: Path, message: str, fix: str = "") -> None:
        problem = Problem(str(path), "", message, fix)
        # A raw page that two versions cite (a re-extraction cites its version's page) is checked
        # for each: its damage is one problem, said once (found by review).
        if problem not in self.report.problems:
            self.report.problems.append(problem)

    def _read(self, path: Path, need_bytes: bool) -> tuple[str, int, bytes | None]:
        """(SHA-256, size, bytes or None): a file whose size, mtime and inode are those an earlier
        run hashed is not read again unless its bytes are needed (git's index does the same)."""
        stat = path.stat()
        facts = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        known = self.known_files.get(str(path))
        if not need_bytes and known is not None and list(known[:3]) == facts:
            sha, data = str(known[3]), None
        else:
            data = path.read_bytes()
            sha = sha256_hex(data)
        self.report.file_facts[str(path)] = [*facts, sha]
        return sha, stat.st_size, data

    def signed(self, path: Path, expected: Expected, need_bytes: bool = False,
               ) -> tuple[str, int, bytes | None] | None:
        """Check a file's detached signature and trusted comment: (SHA-256, size, bytes if
        needed or read anyway), or None if bad."""
        sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
        try:
            data_sha, size, data = self._read(path, need_bytes)
        except OSError as err:
            self.fail(path, unreadable(err), "restore it from git history")
            return None
        try:
            raw_signature = sig_path.read_bytes()
            signature = minisign.Signature.from_bytes(raw_signature)
            memo = _memo_key(self.key_bytes, data_sha, raw_signature)
            if memo not in self.known_good:  # checked by an earlier run: same key, bytes, signature
                if data is None:
                    data = path.read_bytes()
                    data_sha = sha256_hex(data)
                self.public_key.verify(data, signature)
            self.report.good_signatures.add(memo)
        except OSError as err:
            self.fail(sig_path, f"signature {unreadable(err)}", "restore it from git history")
            return None
        except (minisign.Error, ValueError, IndexError) as err:
            self.fail(path, f"signature does not verify ({err})",
                      "the file or its signature was altered; restore both from git history")
            return None
        self.report.signatures += 1
        comment = parse_trusted_comment(str(signature.trusted_comment))
        expected = dict(expected, sha256=data_sha)
        wrong = [f"{k}={comment.get(k)!r} (expected {v!r})" for k, v in expected.items()
                 if comment.get(k) != v]
        if wrong:
            self.fail(sig_path, "trusted comment does not match: " + ", ".join(wrong),
                      "a valid signature of another file was put here; restore from git history")
            return None
        self.report.verified[path] = data_sha
        return data_sha, size, data

    def document(self, directory: Path) -> None:
        key = DocKey(directory.parent.name, directory.name)
        self.report.documents += 1
        versions_dir = directory / VERSIONS_DIR
        known: set[Path] = set()
        unverified: set[str] = set()  # ids whose metadata failed: their files are not strays
        for json_path in sorted(versions_dir.glob("*.json")):
            version_id = json_path.stem
            known |= {json_path, versions_dir / f"{version_id}.md"}
            where = {"document": str(key), "version": version_id, "file": f"{VERSIONS_DIR}/{json_path.name}"}
            signed_meta = self.signed(json_path, where, need_bytes=True)
            meta = signed_meta[2] if signed_meta else None
            if meta is None:
                unverified.add(version_id)
                continue
            try:
                version = parse_version(directory, key, json.loads(meta), json_path.name)
            except (ValueError, UnicodeDecodeError) as err:
                self.fail(json_path, f"unreadable metadata: {err}", "restore it from git history")
                unverified.add(version_id)
                continue
            self.report.versions += 1
            text = self.signed(version.text_path, {"document": str(key), "version": version_id,
                                                   "file": f"{VERSIONS_DIR}/{version_id}.md"})
            if text is not None and (text[0] != version.sha256 or text[1] != version.bytes):
                self.fail(version.text_path, "text does not match the sha256/bytes in its metadata",
                          "restore the text from git history")
            self.report.snapshots += bool(version.snapshot_id)
            for page in version.snapshots:
                page_path = directory / page.file
                known.add(page_path)
                raw = self.signed(page_path, {"document": str(key), "snapshot": version.snapshot_id or "",
                                              "file": page.file})
                if raw is not None and (raw[0] != page.sha256 or raw[1] != page.bytes):
                    self.fail(page_path, "raw page does not match the sha256/bytes in its version metadata",
                              "restore it from git history")
        self.report.problems += verify_check_log(directory, self.public_key)
        self.report.signatures += (directory / HEAD_FILE).is_file()  # the log's signed head
        leftover, logged = leftover_id(directory), logged_version_ids(directory)
        for folder in (versions_dir, directory / SNAPSHOTS_DIR):
            for path in sorted(folder.glob("*")) if folder.is_dir() else ():
                base = path.with_name(path.name.removesuffix(SIGNATURE_SUFFIX))
                version_id = base.name.split(".")[0]
                if base in known or version_id in unverified:
                    continue
                temp = path.name.startswith(".") and path.name.endswith(".tmp")  # write cut short
                if temp or version_id == leftover:
                    # Written before its metadata when a capture died: never part of history.
                    note = Problem(str(path), "", LEFTOVER, "the next capture removes it")
                    self.report.warnings.append(note)
                elif version_id in logged:
                    self.fail(path, f"a file of version {version_id}, which the check log names but whose "
                              "metadata is missing", f"restore {VERSIONS_DIR}/{version_id}.json and its "
                              ".minisig from git history; do not delete it")
                else:
                    self.fail(path, "not part of any recorded version (stray file)",
                              "delete it, or restore the version metadata that cites it")
        for cut in sorted(directory.glob(".*.tmp")):  # a write of the check log cut short
            self.report.warnings.append(Problem(str(cut), "", LEFTOVER, "the next capture removes it"))


PARALLEL_MIN_DOCUMENTS = 50  # below this, starting workers costs more than it saves

_forked: _Verifier | None = None  # set before the pool forks: workers inherit it


def _check_in_worker(directory: Path) -> VerifyReport:
    """One document's check in a forked worker (its own copy of the verifier), into a report of
    its own that the caller merges."""
    assert _forked is not None
    _forked.report = VerifyReport()
    _forked.check_document(directory)
    return _forked.report


def verify_archive(root: Path, public_key_path: Path | None = None,
                   progress: Callable[[str], None] = lambda _: None,
                   known_good: frozenset[str] = frozenset(),
                   known_files: Mapping[str, Sequence[object]] | None = None,
                   known_documents: Mapping[str, DocumentProof] | None = None,
                   workers: int = 1) -> VerifyReport:
    """Check the whole archive against its public key (or a pinned one given by the caller).

    `known_good` holds `report.good_signatures` of an earlier run (the build cache keeps them): a
    signature already checked over the same key and bytes is not checked again; hashes and trusted
    comments always are. `known_files` holds `report.file_facts` of an earlier run: a file whose
    size, mtime and inode are unchanged is taken to have the SHA-256 it had (the build uses both;
    `clausewatch verify` uses neither and checks every byte). `known_documents` holds `report.proofs`
    of an earlier run: a document none of whose files changed (by the same test) is not checked
    again, its earlier clean result is taken over. With `workers` > 1, documents are checked in
    that many forked processes (hashing and signatures cost processor time); the report is the
    same, in the same order."""
    global _forked
    report = VerifyReport()
    not_a_folder = archive_folder_problem(root)
    if not_a_folder:
        report.problems.append(not_a_folder)
        return report
    if not any(not p.name.startswith(".") for p in root.iterdir()):
        return report  # a new archive whose first write was interrupted: nothing to check yet
    key_path = public_key_path or root / PUBLIC_KEY_FILE
    try:
        public_key = read_public_key(key_path)
    except SigningError as err:
        fix = ("pass the minisign public key file (minisign.pub) you trust" if public_key_path
               else "restore the archive's minisign.pub")
        report.problems.append(Problem(str(key_path), "--public-key" if public_key_path else "",
                                       str(err).removeprefix(f"{key_path}: "), fix))
        return report
    report.key_id = key_id_of(public_key)
    verifier = _Verifier(public_key, report, known_good, known_files or {}, known_documents or {})
    # A document whose every check failed so far has a check log but no versions yet.
    logged = {p.parent for p in root.glob(f"*/*/{CHECKS_FILE}")}
    # A document whose versions/ folder is gone still has its raw pages: its files are then strays
    # (were it left out, its whole history could vanish and the archive still verify).
    stored = {p.parent for p in root.glob(f"*/*/{SNAPSHOTS_DIR}") if p.is_dir()}
    directories = sorted(set(document_dirs(root)) | logged | stored)
    # An incremental build takes most documents over from its last check: workers only pay where
    # many have no earlier clean check to take over.
    unchecked = sum(str(d) not in verifier.known_documents for d in directories)
    if workers > 1 and unchecked >= PARALLEL_MIN_DOCUMENTS and can_fork():
        _forked = verifier
        try:
            for directory, found in zip(directories, fork_map(_check_in_worker, directories, workers),
                                        strict=True):
                progress(f"{directory.parent.name}/{directory.name}")
                report.add(found)
        finally:
            _forked = None
        return report
    for directory in directories:
        progress(f"{directory.parent.name}/{directory.name}")
        verifier.check_document(directory)
    return report
