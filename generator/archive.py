"""The archive on disk: the contract layout, atomic writes, signed records, and reading it back.

Write order makes a crash harmless: snapshots, then the text, then the metadata JSON, each after
its signature. The JSON is written last and is what makes a version exist; files of a version id
without JSON are leftovers of an interrupted write, which `verify` notes and the next write removes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import (
    VERSION_ID_RE,
    Archive,
    ArchivedDocument,
    DocKey,
    Problem,
    ProblemsError,
    SnapshotPage,
    Version,
)
from .signing import (
    SIGNATURE_SUFFIX,
    Signer,
    SigningError,
    key_id_of,
    read_public_key,
    trusted_comment,
)

PUBLIC_KEY_FILE = "minisign.pub"
VERSIONS_DIR = "versions"
SNAPSHOTS_DIR = "snapshots"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump_json(value: Any) -> bytes:
    """Archive JSON: sorted keys, 2-space indent, UTF-8, one trailing newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> bool:
    """Write via a temp file and rename; return False (and touch nothing) if bytes are equal."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def document_dir(root: Path, key: DocKey) -> Path:
    return root / key.service / key.doc_type


def text_comment(key: DocKey, version_id: str, file: str, digest: str) -> str:
    return trusted_comment(
        {"document": str(key), "version": version_id, "file": file, "sha256": digest}
    )


def snapshot_comment(key: DocKey, snapshot_id: str, file: str, digest: str) -> str:
    return trusted_comment(
        {"document": str(key), "snapshot": snapshot_id, "file": file, "sha256": digest}
    )


def snapshot_page_names(snapshot_id: str, count: int) -> list[str]:
    """File names of a snapshot's raw pages under snapshots/: the first page is always
    <snapshot-id>.html (the contract's name, so a check needs only snapshot_id to find a raw page);
    pages 2..k of a document assembled from several pages are <snapshot-id>.<k>.html."""
    return [f"{snapshot_id}.html" if k == 1 else f"{snapshot_id}.{k}.html" for k in range(1, count + 1)]


@dataclass(frozen=True)
class RawPage:
    """One raw page about to be stored under snapshots/."""

    name: str  # file name: snapshot_page_names
    data: bytes
    url: str | None
    fetched_at: str | None


@dataclass(frozen=True)
class NewVersion:
    """A version about to be recorded: its text, raw pages and the other metadata fields."""

    key: DocKey
    id: str
    text: str
    snapshot_id: str | None
    pages: tuple[RawPage, ...]
    metadata: dict[str, Any]


@contextmanager
def sole_writer(root: Path) -> Iterator[None]:
    """Hold the archive for one writer (capture, re-extraction, import) until the block ends, or
    refuse at once: two runs on one archive would each compare with a latest version that the
    other may have superseded, and a check log rewritten by both would keep one run's entries.
    The lock is on the archive folder itself (flock, released when the process ends), so no file
    is added to the archive."""
    root.mkdir(parents=True, exist_ok=True)
    folder = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy = Problem(str(root), "", "another capture, re-extraction or import is writing this archive",
                           "wait for it to finish, then run again")
            raise ProblemsError([busy]) from None
        yield
    finally:
        os.close(folder)  # releases the lock


class ArchiveWriter:
    """Records signed versions into an archive whose public key matches the signer."""

    def __init__(self, root: Path, signer: Signer) -> None:
        self.root = root
        self.signer = signer
        pub_path = root / PUBLIC_KEY_FILE
        if pub_path.exists():
            existing = key_id_of(read_public_key(pub_path))
            if existing != signer.key_id:
                raise SigningError(
                    f"{pub_path}: this archive is signed by key {existing}, but the secret key "
                    f"given is {signer.key_id}; use the archive's own key, or another --archive"
                )
        else:
            # Dot files are temp files of an interrupted write: they hold nothing yet.
            if any(not p.name.startswith(".") for p in _children(root)):
                raise SigningError(
                    f"{root}: holds files but no {PUBLIC_KEY_FILE}; refusing to sign into an "
                    "archive of unknown provenance (restore its public key first)"
                )
            for temp in root.glob(f".{PUBLIC_KEY_FILE}.*.tmp"):  # of a write of it cut short
                temp.unlink()
            public = signer.public_key()
            public.untrusted_comment = f"minisign public key {signer.key_id}"
            write_atomic(pub_path, bytes(public) + b"\n")

    def _write_signed(self, path: Path, data: bytes, comment: str) -> bool:
        # The signature lands first, so a file never exists without one, even if we die in between.
        sig_path = path.with_name(path.name + SIGNATURE_SUFFIX)
        try:
            unchanged = path.read_bytes() == data and sig_path.exists()
        except FileNotFoundError:
            unchanged = False
        if unchanged:
            return False
        write_atomic(sig_path, self.signer.sign(data, comment))
        write_atomic(path, data)
        return True

    def record(self, new: NewVersion) -> bool:
        """Write one version (refusing to alter an existing one); return True if anything was written."""
        directory = document_dir(self.root, new.key)
        remove_leftovers(directory)
        text_bytes = new.text.encode()
        digest = sha256_hex(text_bytes)
        text_path = directory / VERSIONS_DIR / f"{new.id}.md"
        if text_path.exists() and text_path.read_bytes() != text_bytes:
            raise ProblemsError([Problem(str(text_path), "", "version exists with other text",
                                        "versions are immutable; record a new version id")])
        snapshots, writes = [], []
        for page in new.pages:
            file = f"{SNAPSHOTS_DIR}/{page.name}"
            page_path = directory / file
            raw_digest = sha256_hex(page.data)
            if page_path.exists() and page_path.read_bytes() != page.data:
                raise ProblemsError([Problem(str(page_path), "", "snapshot exists with other bytes",
                                            "snapshots are immutable; use a new snapshot id")])
            comment = snapshot_comment(new.key, new.snapshot_id or "", file, raw_digest)
            writes.append((page_path, page.data, comment))
            snapshots.append({"file": file, "sha256": raw_digest, "bytes": len(page.data),
                              "url": page.url, "fetched_at": page.fetched_at})
        text_file = f"{VERSIONS_DIR}/{new.id}.md"
        writes.append((text_path, text_bytes, text_comment(new.key, new.id, text_file, digest)))
        metadata = dict(new.metadata, document=str(new.key), id=new.id, sha256=digest,
                        bytes=len(text_bytes), snapshot_id=new.snapshot_id,
                        # A re-extraction cites the pages of an earlier snapshot instead of new ones.
                        snapshots=snapshots or new.metadata.get("snapshots", []))
        json_bytes = dump_json(metadata)
        json_path = directory / VERSIONS_DIR / f"{new.id}.json"
        try:  # what load_archive would refuse is never written: one such file would stop every load
            parse_version(directory, new.key, json.loads(json_bytes), str(json_path))
        except ValueError as err:
            raise ProblemsError([Problem(str(json_path), "", f"not recorded: {err}",
                                         "fix the version's source (its kind, capture time, URLs)")]) from err
        # The metadata, which makes the version exist, is written last.
        json_comment = text_comment(new.key, new.id, f"{VERSIONS_DIR}/{new.id}.json", sha256_hex(json_bytes))
        writes.append((json_path, json_bytes, json_comment))
        wrote = False
        for path, data, comment in writes:
            wrote |= self._write_signed(path, data, comment)
        return wrote


# The document's check log (checklog.CHECKS_FILE, which imports this module): a capture logs a
# version only once its metadata is written.
_CHECK_LOG = "checks.jsonl"


def logged_version_ids(directory: Path) -> set[str]:
    """The version ids the document's check log names (its lines read as JSON, no more: `verify`
    checks the log itself)."""
    try:
        log = (directory / _CHECK_LOG).read_bytes()
    except OSError:
        return set()
    ids = set()
    for line in log.splitlines():
        try:
            entry = json.loads(line).get("entry", {})
        except (ValueError, AttributeError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("version_id"), str):
            ids.add(entry["version_id"])
    return ids


def leftover_id(directory: Path) -> str | None:
    """The version id whose files an interrupted write left: files are written before the metadata
    that makes a version exist, so that is a single id without metadata, later than every recorded
    one (each write first removes what the last one left), and one the check log does not name.
    Anything else without metadata (several such ids, an older one, one the log names: metadata
    deleted, a folder lost) is not a leftover but damage, and is kept for `verify` to report."""
    recorded = {p.stem for p in (directory / VERSIONS_DIR).glob("*.json")}
    found = {path.name.split(".")[0] for folder in (directory / VERSIONS_DIR, directory / SNAPSHOTS_DIR)
             for path in (folder.glob("*") if folder.is_dir() else ())}
    pending = {i for i in found - recorded if VERSION_ID_RE.match(i)}
    if len(pending) == 1 and (only := next(iter(pending))) > max(recorded, default=""):
        return None if only in logged_version_ids(directory) else only
    return None


def remove_leftovers(directory: Path) -> list[Path]:
    """Delete the files an interrupted write left behind (leftover_id) and temporary files."""
    leftover = leftover_id(directory)
    removed = []
    for folder in (directory / VERSIONS_DIR, directory / SNAPSHOTS_DIR):
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if leftover is not None and path.name.split(".")[0] == leftover:
                path.unlink()
                removed.append(path)
        for temp in sorted(folder.glob(".*.tmp")) if folder.is_dir() else ():
            temp.unlink()
            removed.append(temp)
    for temp in sorted(directory.glob(".*.tmp")):  # of the check log and its head (write_atomic)
        temp.unlink()
        removed.append(temp)
    return removed


def _children(root: Path) -> Iterator[Path]:
    return root.iterdir() if root.is_dir() else iter(())


def document_dirs(root: Path) -> list[Path]:
    """Every <service>/<doc-type> folder that has a versions/ folder, sorted."""
    return sorted(p.parent for p in root.glob(f"*/*/{VERSIONS_DIR}") if p.is_dir())


# The types of a version's fields that pages sort, compare and print.
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "captured_at": str, "sha256": str, "url": (str, type(None)), "final_url": (str, type(None)),
    "http_status": (int, type(None)), "snapshot_id": (str, type(None)), "source": (dict, type(None))}
_TYPE_NAMES: dict[type | tuple[type, ...], str] = {
    str: "a string", (str, type(None)): "a string or null", (int, type(None)): "a number or null",
    (dict, type(None)): "an object or null"}
_CAPTURED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _size(value: Any, name: str) -> int:
    # int() of a float would round it, of 1e999 overflow, of a numeric string convert it
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"field {name!r} is {value!r}, not a number of bytes")
    return value


_SNAPSHOT_FILE = re.compile(r"snapshots/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z(\.[1-9][0-9]*)?\.html")


def _snapshot(i: int, s: Any) -> SnapshotPage:
    if not isinstance(s, dict):
        raise ValueError(f"snapshots[{i}] is {s!r}, not an object")
    for name, wanted in (("file", str), ("sha256", str), ("url", (str, type(None))),
                         ("fetched_at", (str, type(None)))):
        if not isinstance(s.get(name), wanted):
            raise ValueError(f"field 'snapshots[{i}].{name}' is {s.get(name)!r}, not {_TYPE_NAMES[wanted]}")
    if not _SNAPSHOT_FILE.fullmatch(s["file"]):  # read by capture and build: never outside snapshots/
        raise ValueError(f"field 'snapshots[{i}].file' is {s['file']!r}, not a raw page's name such as "
                         "snapshots/2024-03-14T12-31-33Z.html")
    return SnapshotPage(file=s["file"], url=s.get("url"), fetched_at=s.get("fetched_at"), sha256=s["sha256"],
                        bytes=_size(s.get("bytes"), f"snapshots[{i}].bytes"))


def parse_version(directory: Path, key: DocKey, data: Any, file: str) -> Version:
    """Turn one version's metadata JSON into a Version; ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("metadata must be a JSON object")
    try:
        snapshots = tuple(_snapshot(i, s) for i, s in enumerate(data.get("snapshots") or ()))
        version = Version(
            key=key, id=data["id"], captured_at=data["captured_at"], kind=data["kind"],
            sha256=data["sha256"], bytes=_size(data["bytes"], "bytes"), url=data.get("url"),
            final_url=data.get("final_url"), http_status=data.get("http_status"),
            snapshot_id=data.get("snapshot_id"), snapshots=snapshots, source=data.get("source"),
            directory=directory, metadata=data,
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"missing or malformed field {err}") from err
    if version.id != os.path.splitext(os.path.basename(file))[0] or not VERSION_ID_RE.match(str(version.id)):
        raise ValueError(f"id {version.id!r} does not match the file name")
    if version.kind not in ("first", "change", "technical"):
        raise ValueError(f"kind {version.kind!r} is not first, change or technical")
    for name, wanted in _FIELD_TYPES.items():
        value = getattr(version, name)
        if not isinstance(value, wanted) or isinstance(value, bool):  # (True is an int)
            raise ValueError(f"field {name!r} is {value!r}, not {_TYPE_NAMES[wanted]}")
    if version.snapshot_id is not None and not VERSION_ID_RE.match(version.snapshot_id):
        raise ValueError(f"field 'snapshot_id' is {version.snapshot_id!r}, not a version id such as "
                         "2024-03-14T12-31-33Z")
    if not _CAPTURED_AT.fullmatch(version.captured_at):
        raise ValueError(f"field 'captured_at' is {version.captured_at!r}, not a UTC time such as "
                         "2024-03-14T12:31:33Z")
    return version


def _metadata_names(folder: str) -> list[str]:
    """The names matching *.json in a folder, sorted (as a glob finds them, hidden ones too);
    plain strings: a Path per file took a sixth of the time to load 2,200 versions' metadata."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.name.endswith(".json"))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _read_versions(directory: Path, key: DocKey, problems: list[Problem]) -> list[Version]:
    versions: list[Version] = []
    folder = os.path.join(directory, VERSIONS_DIR)
    for name in _metadata_names(folder):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as file:
                versions.append(parse_version(directory, key, json.loads(file.read()), name))
        except (ValueError, UnicodeDecodeError, RecursionError) as err:  # (nested past the parser's depth)
            problems.append(Problem(path, "", f"unreadable version metadata: {err}",
                                    "restore the file from git history"))
        except OSError as err:  # a folder in its place, or no permission
            problems.append(Problem(path, "", f"unreadable version metadata ({err.strerror or err})",
                                    "restore the file from git history"))
    return versions


def load_document(directory: Path, key: DocKey) -> ArchivedDocument:
    problems: list[Problem] = []
    versions = _read_versions(directory, key, problems)
    if problems:
        raise ProblemsError(problems)
    return ArchivedDocument(key, directory, tuple(versions))


def archive_folder_problem(root: Path) -> Problem | None:
    """What is wrong with an archive path that is no folder. Read as empty, a mistyped path would
    pass for an archive of 0 documents."""
    if root.is_dir():
        return None
    return Problem(str(root), "--archive", "not a folder" if root.exists() else "no such folder",
                   "pass the archive folder (the one holding minisign.pub), e.g. archive/")


def load_archive(root: Path) -> Archive:
    """Read every version's metadata (not the texts) into memory; report all malformed files."""
    not_a_folder = archive_folder_problem(root)
    if not_a_folder:
        raise ProblemsError([not_a_folder])
    documents: list[ArchivedDocument] = []
    problems: list[Problem] = []
    for directory in document_dirs(root):
        key = DocKey(directory.parent.name, directory.name)
        versions = _read_versions(directory, key, problems)
        if versions:
            documents.append(ArchivedDocument(key, directory, tuple(versions)))
    if problems:
        raise ProblemsError(problems)
    return Archive(root, tuple(documents))
