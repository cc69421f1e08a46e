"""The check log: every check of every document, in a signed, hash-chained, append-only file.

One log per document, `<service>/<doc-type>/checks.jsonl`, so capture jobs sharded by document never
touch the same file. Each line is one JSON object, sorted keys, compact, UTF-8, LF-terminated, so
appending a check adds one line at the end and nothing else:

    {"entry":{"checked_at":…,"document":…,"prev":…,"seq":…,…},"signature":"<minisign signature>"}

The chain (Certificate Transparency's idea, minisign's signatures):

- `seq` numbers the entries from 1; `prev` is the SHA-256 of the previous line's exact bytes, LF
  included (`sed -n Np checks.jsonl | sha256sum`), or 64 zeros for the first entry.
- `signature` is a prehashed minisign signature of the entry's bytes exactly as they stand in the
  line (the canonical form makes them a substring), trusted comment `document:… seq:… prev:…`.
  Because `prev` covers the previous line with its signature, the signature of entry n commits
  to the whole log up to n: every line is a signed head of the log that ends there, and the file
  verifies alone. One line, with the stock tool (the entry has no LF of its own):

      sed -n 3p checks.jsonl | jq -r .signature > entry.minisig
      sed -n 3p checks.jsonl | sed 's/^{"entry"://; s/,"signature":".*//' | head -c -1 > entry
      minisign -Vm entry -x entry.minisig -p minisign.pub

- `checks.jsonl.minisig` signs the whole file, trusted comment (tab-separated)
  `document:<key>  entries:<n>  head:<sha256 of line n>`, so `minisign -Vm checks.jsonl` checks
  it in one go. It is a convenience and a tripwire, not what makes entries valid.

Crash safety: an append writes the log (temp file + rename), then the head. A kill before the
rename leaves the old log and head; a kill between the two leaves a head over the first n-1 lines
of n, so `verify` accepts a head that signs any prefix of the log, and a missing head (a kill
during the very first append). The next append writes a head for the whole log again. Until
then, check the stale head with the stock tool on the prefix it names: `head -n N checks.jsonl`.

What `verify` detects:
- an altered entry: its signature fails, and the next entry's `prev` no longer matches;
- a removed, inserted or reordered entry: `seq` / `prev` of the entry after the gap;
- an entry forged without the key, appended or inserted: its signature fails;
- an entry or a log copied from another document: `document`, and the trusted comments;
- lines removed from the end while the head stays: the head names more entries than the log
  holds, or does not sign its prefix;
- a version a check names (recorded, or the latest at the time) that is gone from versions/.
What it cannot detect, as in CT without gossip: a log truncated together with its head rolled
back to an older genuine one (or removed with it). Such a log is indistinguishable from one
that was never extended; only a head seen earlier exposes it (line n of the log must hash to
its `head`). Nor can it prove that the key holder logged every check it made, or when: the
signer is trusted for what it chose to sign, as a CT log is.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import minisign

from . import GENERATOR
from .archive import VERSIONS_DIR, document_dir, sha256_hex, write_atomic
from .model import VERSION_ID_RE, DocKey, Problem, ProblemsError
from .signing import SIGNATURE_SUFFIX, Signer, parse_trusted_comment, trusted_comment, verify_signature

CHECKS_FILE = "checks.jsonl"
HEAD_FILE = CHECKS_FILE + SIGNATURE_SUFFIX
GENESIS = "0" * 64
CHECKED_AT_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
RESTORE = "the log is append-only: restore checks.jsonl and its .minisig from git history"

Outcome = Literal["new-version", "unchanged", "fetch-failed", "http-error", "blocked", "extraction-failed"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
EXTRACTED = ("new-version", "unchanged")  # the outcomes that have a text, hence its sha256


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What one check of a document saw. `version_id`: the version recorded, else the latest one."""

    checked_at: str  # UTC, YYYY-MM-DDTHH:MM:SSZ
    outcome: Outcome
    reason: str = ""  # why it failed; required unless a text was extracted
    http_status: int | None = None
    version_id: str | None = None
    final_url: str | None = None
    sha256: str | None = None  # of the normalized text, when one was extracted


@dataclass(frozen=True, kw_only=True)
class Check(Observation):
    """An observation as entry `seq` of a document's log, chained to the line before it."""

    document: str
    seq: int
    prev: str
    generator: str


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def malformation(check: Check) -> str | None:
    """Why a check breaks the log's format, or None: one rule set for writing and for reading."""
    extracted = check.outcome in EXTRACTED
    rules = (
        (_is_int(check.seq) and check.seq >= 1, "seq must be a positive integer"),
        (_matches(SHA256_RE, check.prev), "prev must be a SHA-256 in lower-case hex"),
        (isinstance(check.document, str) and isinstance(check.generator, str),
         "document and generator must be strings"),
        (_matches(CHECKED_AT_RE, check.checked_at), "checked_at must be UTC YYYY-MM-DDTHH:MM:SSZ"),
        (check.outcome in OUTCOMES, f"outcome must be one of {', '.join(OUTCOMES)}"),
        (isinstance(check.reason, str) and (extracted or bool(check.reason)),
         "a failed check needs a reason"),
        (check.http_status is None or (_is_int(check.http_status) and 100 <= check.http_status <= 599),
         "http_status must be an HTTP status code"),
        (check.outcome != "http-error" or check.http_status is not None,
         "an http-error needs its http_status"),
        (check.version_id is None or _matches(VERSION_ID_RE, check.version_id),
         "version_id must be a version id YYYY-MM-DDTHH-MM-SSZ"),
        (not extracted or check.version_id is not None, f"{check.outcome} needs the version_id of its text"),
        (check.final_url is None or isinstance(check.final_url, str), "final_url must be a string"),
        (_matches(SHA256_RE, check.sha256) if extracted else check.sha256 is None,
         "sha256 (lower-case hex) is given exactly when a text was extracted (new-version, unchanged)"),
    )
    return next((message for ok, message in rules if not ok), None)


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_bytes(check: Check) -> bytes:
    """What an entry's signature signs; the same bytes stand verbatim in its line."""
    return _json(asdict(check))


def entry_comment(check: Check) -> str:
    return trusted_comment({"document": check.document, "seq": str(check.seq), "prev": check.prev})


def head_comment(document: str, entries: int, head: str) -> str:
    return trusted_comment({"document": document, "entries": str(entries), "head": head})


def serialize_line(check: Check, signature: str) -> bytes:
    return _json({"entry": asdict(check), "signature": signature}) + b"\n"


def split_lines(log: bytes) -> list[bytes]:
    """The log's lines with their LF; an unterminated last line is kept (and fails to parse)."""
    *lines, tail = log.split(b"\n")
    return [line + b"\n" for line in lines] + ([tail] if tail else [])


def parse_line(line: bytes) -> tuple[Check, str]:
    """A line's check and signature; ValueError unless the line is exactly as the writer makes it."""
    try:
        obj = json.loads(line)
        check, signature = Check(**obj["entry"]), obj["signature"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"not a check log entry ({err})") from err
    # Byte-exact, so the signed bytes are the ones a reader sees (no duplicate keys, nothing extra).
    if not isinstance(signature, str) or serialize_line(check, signature) != line:
        raise ValueError("not in the canonical form (sorted keys, compact JSON, one LF-terminated line)")
    problem = malformation(check)
    if problem:
        raise ValueError(problem)
    return check, signature


def chain(key: DocKey, lines: list[bytes], observation: Observation) -> Check:
    """The next entry after `lines` (a log that verifies); ValueError if the observation is malformed."""
    check = Check(**asdict(observation), document=str(key), seq=len(lines) + 1,
                  prev=sha256_hex(lines[-1]) if lines else GENESIS, generator=GENERATOR)
    problem = malformation(check)
    if problem:
        raise ValueError(f"{key}: {problem}")
    return check


def _link_problems(key: DocKey, check: Check, signature: str, seq: int, prev: str,
                   public_key: minisign.PublicKey, versions: set[str]) -> list[str]:
    problems = []
    try:
        comment = verify_signature(public_key, entry_bytes(check), signature.encode())
    except (ValueError, IndexError) as err:  # minisign.Error is a ValueError
        problems.append(f"signature does not verify ({err}): the entry was altered or forged")
    else:
        if comment != entry_comment(check):
            problems.append("trusted comment of the signature does not match the entry")
    if check.document != str(key):
        problems.append(f"entry of another document ({check.document})")
    if (check.seq, check.prev) != (seq, prev):
        problems.append(f"seq {check.seq} / prev {check.prev[:12]}… where the chain expects seq {seq} / "
                        f"prev {prev[:12]}…: an entry before it was removed, inserted, reordered or altered")
    if check.version_id is not None and check.version_id not in versions:
        problems.append(f"names version {check.version_id}, which is not in {VERSIONS_DIR}/{MISSING_VERSION}")
    return problems


def _head_problem(key: DocKey, lines: list[bytes], head: bytes, public_key: minisign.PublicKey) -> str | None:
    try:
        comment = parse_trusted_comment(str(minisign.Signature.from_bytes(head).trusted_comment))
        entries = int(comment.get("entries", ""))
    except (ValueError, IndexError) as err:
        return f"unreadable signed head ({err})"
    if not 1 <= entries <= len(lines):
        return (f"signed head names {entries} entries but the log holds {len(lines)}: "
                f"entries were removed{_FROM_ITS_END}")
    try:
        verify_signature(public_key, b"".join(lines[:entries]), head)
    except (ValueError, IndexError) as err:
        return f"signed head does not verify over the first {entries} lines ({err})"
    if comment != parse_trusted_comment(head_comment(str(key), entries, sha256_hex(lines[entries - 1]))):
        return "trusted comment of the signed head does not match the log"
    return None


_FROM_ITS_END = " from its end"  # where removed entries were, when every link verifies
# Marks a link's problem that is the version's, not the log's: its metadata is what went missing.
MISSING_VERSION = "\0missing-version"


def _missing_version_fix(message: str) -> str:
    version_id = message.split()[2].rstrip(",")  # "names version <id>, which is not in ..."
    return (f"the log is intact; restore {VERSIONS_DIR}/{version_id}.json and its .minisig (the version's "
            "metadata) from git history")


def log_problems(directory: Path, log: bytes, head: bytes | None, public_key: minisign.PublicKey,
                 versions: set[str]) -> list[Problem]:
    """Every broken link of one document's log and a head that does not sign a prefix of it."""
    key = DocKey(directory.parent.name, directory.name)
    lines = split_lines(log)
    problems, prev, seq = [], GENESIS, 1
    for number, line in enumerate(lines, 1):
        try:
            check, signature = parse_line(line)
        except ValueError as err:
            messages = [f"unreadable entry: {err}"]
        else:
            messages = _link_problems(key, check, signature, seq, prev, public_key, versions)
            seq = check.seq  # each link is judged against the one before it: one gap, one report
        for message in messages:
            fix = RESTORE
            if message.endswith(MISSING_VERSION):
                message, fix = message.removesuffix(MISSING_VERSION), _missing_version_fix(message)
            problems.append(Problem(str(directory / CHECKS_FILE), f"line {number}", message, fix))
        prev, seq = sha256_hex(line), seq + 1
    head_problem = None if head is None else _head_problem(key, lines, head, public_key)
    if head_problem and problems:  # a broken link above says where they were removed from
        head_problem = head_problem.removesuffix(_FROM_ITS_END)
    if head_problem:
        problems.append(Problem(str(directory / HEAD_FILE), "", head_problem, RESTORE))
    return problems


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def verify_check_log(directory: Path, public_key: minisign.PublicKey) -> list[Problem]:
    """Check one document folder's log and head; no log and no head is no problem."""
    log, head = _read(directory / CHECKS_FILE), _read(directory / HEAD_FILE)
    if log is None and head is None:
        return []
    versions = {path.stem for path in (directory / VERSIONS_DIR).glob("*.json")}
    return log_problems(directory, log or b"", head, public_key, versions)


def append_check(root: Path, signer: Signer, key: DocKey, observation: Observation) -> Check:
    """Sign and append one check to the document's log, then re-sign its head.

    Refuses (ProblemsError) to extend a log that does not verify, so that a new head never papers
    over a truncation; refuses (ValueError) a check that names a version not recorded yet: record
    the version first, then its check.
    """
    directory = document_dir(root, key)
    problems = verify_check_log(directory, signer.public_key())
    if problems:
        raise ProblemsError(problems)
    lines = split_lines(_read(directory / CHECKS_FILE) or b"")
    check = chain(key, lines, observation)
    if check.version_id and not (directory / VERSIONS_DIR / f"{check.version_id}.json").exists():
        raise ValueError(f"{key}: version {check.version_id} is not recorded; record it before its check")
    line = serialize_line(check, signer.sign(entry_bytes(check), entry_comment(check)).decode())
    log = b"".join(lines) + line
    write_atomic(directory / CHECKS_FILE, log)  # first: a kill here leaves a head over a prefix
    write_atomic(directory / HEAD_FILE, signer.sign(log, head_comment(str(key), check.seq, sha256_hex(line))))
    return check


def read_checks(directory: Path) -> list[Check]:
    """One document's checks, oldest first; parsed, not verified (`verify` does that)."""
    checks, problems = [], []
    for number, line in enumerate(split_lines(_read(directory / CHECKS_FILE) or b""), 1):
        try:
            checks.append(parse_line(line)[0])
        except ValueError as err:
            problems.append(Problem(str(directory / CHECKS_FILE), f"line {number}", str(err), RESTORE))
    if problems:
        raise ProblemsError(problems)
    return checks
