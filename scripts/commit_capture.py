#!/usr/bin/env python3
"""Commit what a capture run changed under archive/, with machine-readable messages; optionally push.

The capture workflow runs this (through `scripts/capture_job.sh commit`) in the repository's root
once the changes of every capture shard are in the work tree. It makes, in this order:

- one commit per new version, subject `capture: new version of <service>/<doc-type>`, holding the
  version's text, metadata, raw pages and their signatures, and the document's check log;
- one commit for everything else (the check logs of the documents without a new version), subject
  `capture: checks <YYYY-MM-DD>`. A capture logs every check, so a run makes this commit unless
  every document got a new version (each version commit holds its check); either keeps the
  repository active (GitHub disables the schedule of a repository without activity for 60 days).

Each message ends with git trailers, read back with e.g.
`git log --format='%(trailers:key=Version,valueonly)'`:

    Document: claude-ai/terms-of-service        (version commits)
    Version: 2026-11-29T05-17-02Z
    Kind: change                                first, change or technical
    SHA-256: <sha256 of the version's text>     checked against the .md file before committing
    Outcome: new-version                        the check-log entry that recorded it
    Outcome: <service>/<doc-type> <outcome>     (checks commit) one per check appended by the run

It refuses, committing nothing, when the run altered or deleted a recorded version or snapshot
(they are immutable), rewrote a check log instead of appending to it, or when a version's text does
not match the SHA-256 of its metadata. A new file of a version or snapshot that belongs to no new
version (a write cut short: a version's text without its metadata, a snapshot's signature) is left
out of the commits, with a warning, and the rest is committed. Standard
library only: it needs git, not the project.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath

VERSION_METADATA = re.compile(r"(?P<doc>[^/]+/[^/]+)/versions/(?P<id>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)\.json")
IMMUTABLE_DIRS = ("versions", "snapshots")
CHECK_LOG = "checks.jsonl"
KINDS = ("first", "change", "technical")
BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


class CommitError(Exception):
    """The run's changes are not fit to commit; the message says which file and why."""


def git(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", "--literal-pathspecs", *args], input=stdin, capture_output=True,
                            text=True, check=False)
    if check and result.returncode != 0:
        raise CommitError(f"git {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def _paths(output: str) -> list[str]:
    return [p for p in output.split("\0") if p]


@dataclass(frozen=True)
class Check:
    document: str
    outcome: str
    checked_at: str
    version_id: str | None


@dataclass(frozen=True)
class NewVersion:
    document: str
    id: str
    kind: str
    sha256: str
    files: tuple[str, ...]


@dataclass
class Plan:
    """The commits to make, in order: (subject, trailers, paths)."""

    commits: list[tuple[str, list[tuple[str, str]], list[str]]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # files of no new version: a write cut short


def _document_of(path: str, archive: str) -> str | None:
    parts = PurePosixPath(path).relative_to(archive).parts
    return "/".join(parts[:2]) if len(parts) > 2 else None


def new_checks(log_path: str) -> list[Check]:
    """The entries a run appended to a check log (compared with HEAD); refuses any other edit."""
    before = git("show", f"HEAD:{log_path}", check=False)
    old = before.stdout if before.returncode == 0 else ""
    try:
        with open(log_path, encoding="utf-8", newline="") as handle:
            now = handle.read()
    except FileNotFoundError:
        raise CommitError(f"{log_path}: deleted; the check log is append-only") from None
    if not now.startswith(old):
        raise CommitError(f"{log_path}: earlier entries changed; the check log is append-only")
    checks = []
    for line in now[len(old):].splitlines():
        entry = json.loads(line)["entry"]
        checks.append(Check(entry["document"], entry["outcome"], entry["checked_at"],
                            entry.get("version_id")))
    return checks


def read_version(root: str, document: str, version_id: str, changed: Sequence[str]) -> NewVersion:
    directory = f"{root}/{document}"
    meta_path = f"{directory}/versions/{version_id}.json"
    with open(meta_path, encoding="utf-8") as handle:
        meta = json.load(handle)
    if meta.get("document") != document or meta.get("id") != version_id:
        raise CommitError(f"{meta_path}: names {meta.get('document')}@{meta.get('id')}, not its own path")
    text_path = f"{directory}/versions/{version_id}.md"
    with open(text_path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if digest != meta.get("sha256"):
        raise CommitError(f"{text_path}: SHA-256 {digest} differs from its metadata's {meta.get('sha256')}")
    files = tuple(p for p in changed if PurePosixPath(p).parent.name in IMMUTABLE_DIRS
                  and PurePosixPath(p).parent.parent.as_posix() == directory
                  and PurePosixPath(p).name.startswith(version_id + "."))
    if meta.get("kind") not in KINDS:
        raise CommitError(f"{meta_path}: kind {meta.get('kind')!r} is not one of {', '.join(KINDS)}")
    return NewVersion(document, version_id, meta["kind"], digest, files)


def plan(archive: str) -> Plan:
    """Read the work tree's changes under `archive` (relative to the repository root) into commits."""
    added = set(_paths(git("ls-files", "-z", "--others", "--exclude-standard", "--", archive).stdout))
    changed = sorted(added | set(_paths(git("diff", "-z", "--name-only", "--no-renames", "HEAD",
                                            "--", archive).stdout)))
    for path in changed:
        if path not in added and PurePosixPath(path).parent.name in IMMUTABLE_DIRS:
            raise CommitError(f"{path}: a recorded file was changed or deleted; versions are immutable")
    logs = {_document_of(p, archive): p for p in changed if PurePosixPath(p).name == CHECK_LOG}
    checks = {doc: new_checks(path) for doc, path in logs.items() if doc}
    versions = sorted((m["doc"], m["id"]) for p in sorted(added)
                      if (m := VERSION_METADATA.fullmatch(str(PurePosixPath(p).relative_to(archive)))))
    result, done = Plan(), set()
    for n, (document, version_id) in enumerate(versions):
        version = read_version(archive, document, version_id, changed)
        paths = list(version.files)
        if n == 0:  # the archive's public key, when this run created the archive
            paths += [p for p in changed if _document_of(p, archive) is None]
        if all(d != document for d, _ in versions[n + 1:]):  # the document's last new version
            paths += [p for p in changed if _document_of(p, archive) == document
                      and PurePosixPath(p).name.startswith(CHECK_LOG)]
        logged = [c for c in checks.get(document, []) if c.version_id == version_id]
        trailers = [("Document", document), ("Version", version_id), ("Kind", version.kind),
                    ("SHA-256", version.sha256)] + [("Outcome", c.outcome) for c in logged[-1:]]
        result.commits.append((f"capture: new version of {document}", trailers, paths))
        done.update(paths)
    rest = [p for p in changed if p not in done]
    # A version's or snapshot's file of no new version is what a write cut short left (a full disk):
    # not a version, and not the other documents' results either, which are committed all the same.
    result.left_out = [p for p in rest if PurePosixPath(p).parent.name in IMMUTABLE_DIRS]
    rest = [p for p in rest if p not in result.left_out]
    if rest:
        committed_logs = {_document_of(p, archive) for p in done}
        entries = [c for doc in sorted(checks) if doc not in committed_logs for c in checks[doc]]
        day = max((c.checked_at[:10] for c in entries), default=datetime.now(UTC).strftime("%Y-%m-%d"))
        trailers = [("Checked", str(len({c.document for c in entries})))]
        trailers += [("Outcome", f"{c.document} {c.outcome}") for c in entries]
        result.commits.append((f"capture: checks {day}", trailers, rest))
    return result


def message(subject: str, trailers: Sequence[tuple[str, str]]) -> str:
    for key, value in trailers:
        if not re.fullmatch(r"[\x21-\x7e]+( [\x21-\x7e]+)*", value):
            raise CommitError(f"{subject}: trailer {key} would not be one printable line: {value!r}")
    return subject + "\n\n" + "".join(f"{key}: {value}\n" for key, value in trailers)


def commit(work: Plan) -> list[str]:
    """Make the planned commits; return their hashes."""
    for name, value in zip(("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"), BOT, strict=True):
        os.environ.setdefault(name, value)
    os.environ.setdefault("GIT_COMMITTER_NAME", os.environ["GIT_AUTHOR_NAME"])
    os.environ.setdefault("GIT_COMMITTER_EMAIL", os.environ["GIT_AUTHOR_EMAIL"])
    made = []
    for subject, trailers, paths in work.commits:
        git("add", "--all", "--pathspec-from-file=-", "--pathspec-file-nul", stdin="\0".join(paths))
        git("commit", "--quiet", "--no-verify", "--file=-", stdin=message(subject, trailers))
        made.append(git("rev-parse", "HEAD").stdout.strip())
        print(f"{made[-1][:12]} {subject} ({len(paths)} files)")
    return made


def _auth() -> list[str]:
    """Git options that give this one command the push token of CAPTURE_PUSH_TOKEN, if set, as an
    HTTP header (as actions/checkout does): the token is never written to .git/config, where the
    project's code, run earlier in the job, could have read it."""
    token = os.environ.get("CAPTURE_PUSH_TOKEN")
    if not token:
        return []
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ["-c", f"http.https://github.com/.extraheader=AUTHORIZATION: basic {basic}"]


def _keep_unmerged(remote: str) -> str:
    """Push the capture commits, as they are, to a branch of their own: the run's versions and checks
    are not left in its short-lived artifacts only. Says where they went, or that they could not."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kept = f"capture-unmerged/{stamp}-{os.getpid()}"
    pushed = git(*_auth(), "push", "--quiet", remote, f"HEAD:refs/heads/{kept}", check=False)
    if pushed.returncode != 0:
        return f"nor could they be kept on a branch of their own ({pushed.stderr.strip()})"
    return (f"they are kept on the branch {kept} of {remote}: merge it by hand, and run `clausewatch verify` "
            "on the result")


def push(remote: str, branch: str, attempts: int = 4) -> None:
    """Push HEAD to remote/branch; if the branch moved meanwhile, rebase the capture commits onto it."""
    last = ""
    for attempt in range(1, attempts + 1):
        pushed = git(*_auth(), "push", "--quiet", remote, f"HEAD:refs/heads/{branch}", check=False)
        if pushed.returncode == 0:
            print(f"pushed to {remote} {branch}")
            return
        last = pushed.stderr.strip()
        if attempt == attempts:
            break
        print(f"push rejected ({last}), rebasing onto {remote}/{branch} (attempt {attempt})", file=sys.stderr)
        rebase = git(*_auth(), "pull", "--quiet", "--rebase", "--no-autostash", remote, branch, check=False)
        if rebase.returncode != 0:
            git("rebase", "--abort", check=False)
            raise CommitError(f"cannot rebase the capture commits onto {remote}/{branch}: "
                              f"{rebase.stderr.strip()}; {_keep_unmerged(remote)}")
        time.sleep(attempt)
    raise CommitError(f"push to {remote} {branch} failed {attempts} times; the last answer: {last}; "
                      f"{_keep_unmerged(remote)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--archive", default="archive",
                        help="archive folder, relative to the repository root (default: archive)")
    parser.add_argument("--push", action="store_true", help="push the commits when there are any")
    parser.add_argument("--remote", default="origin", help="remote to push to (default: origin)")
    parser.add_argument("--branch", help="branch to push to (default: the current branch)")
    args = parser.parse_args(argv)
    try:
        os.chdir(git("rev-parse", "--show-toplevel").stdout.strip())
        if git("diff", "--cached", "--quiet", check=False).returncode != 0:
            raise CommitError("the index holds staged changes; commit or reset them first")
        work = plan(args.archive.strip("/"))
        made = commit(work)
        for path in work.left_out:  # (a GitHub annotation; a plain line elsewhere)
            print(f"::warning title=Left out of the commit::{path}: belongs to no new version (left by a "
                  "capture whose write was cut short); not committed")
        if not made:
            print("nothing to commit: the capture changed nothing under " + args.archive)
            return 0
        if args.push:
            push(args.remote, args.branch or git("symbolic-ref", "--short", "HEAD").stdout.strip())
    except (CommitError, OSError, ValueError, KeyError) as err:
        print(f"error: {type(err).__name__ + ': ' if not isinstance(err, CommitError) else ''}{err}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
