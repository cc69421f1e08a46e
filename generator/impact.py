"""Which findings a rule change adds or removes across the archive (for pull-request comments).

A change to the rules can also be a change to the code that reads them (generator/, e.g. the form
in which clauses are read): then the findings at the base revision are those of that revision's
own code, run on the current archive in a subprocess.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .analyze import Analyzer
from .findingjson import finding_from_record
from .model import Archive, ArchivedDocument, Finding, Problem, ProblemsError, Rule
from .rules import RULES_DIR, load_ruleset

ENGINE_DIR = "generator"
FindingsOf = Callable[[ArchivedDocument], Sequence[Finding]]  # the findings on a document's latest version


@dataclass(frozen=True)
class DocumentImpact:
    document: str
    version_id: str
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]
    regraded: tuple[tuple[Finding, Finding], ...] = ()  # (before, after): same rule and clause, new severity


def _key(finding: Finding) -> tuple[str, str]:
    return finding.rule_id, finding.clause_id


def findings_by_rules(rules: Sequence[Rule]) -> FindingsOf:
    analyzer = Analyzer(rules)
    return lambda doc: analyzer.analyze(doc.key.doc_type, doc.latest.read_text())


def compare(archive: Archive, before: FindingsOf, after: FindingsOf) -> list[DocumentImpact]:
    """Findings on the latest version of every document, before and after the change."""
    impacts = []
    for doc in archive.documents:
        old = {_key(f): f for f in before(doc)}
        new = {_key(f): f for f in after(doc)}
        added = tuple(new[k] for k in sorted(new.keys() - old.keys()))
        removed = tuple(old[k] for k in sorted(old.keys() - new.keys()))
        # A rule whose severity changed re-scores every document it flags: as visible as a new match.
        regraded = tuple((old[k], new[k]) for k in sorted(old.keys() & new.keys())
                         if (old[k].severity, old[k].category) != (new[k].severity, new[k].category))
        if added or removed or regraded:
            impacts.append(DocumentImpact(str(doc.key), doc.latest.id, added, removed, regraded))
    return impacts


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~])")
SUMMARY_LIMIT = 900_000  # bytes; GitHub drops a step summary over 1 MiB whole


def _quote(text: str, limit: int = 320) -> str:
    """A captured clause as inert Markdown text in a table cell: third parties wrote it, so it adds no
    link, image, tag or column, and it stays on one line."""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def _clause(f: Finding) -> str:
    """The clause id (its anchor on the version's page) and the quote, with the list items a flagged
    lead-in quotes: an exception often turns on words past the first line."""
    quoted = " ".join((f.quote, *f.items)) if f.items else f.quote
    return f"`{f.clause_id}` {_quote(quoted)}"


def _regrading(before: Finding, after: Finding) -> str:
    """Severity and category, saying "was" only of what changed."""
    severity = after.severity + (f" (was {before.severity})" if before.severity != after.severity else "")
    category = f", {after.category} (was {before.category})" if before.category != after.category else ""
    return severity + category


def _per_rule(impacts: Sequence[DocumentImpact]) -> list[str]:
    counts: dict[str, list[int]] = {}
    for impact in impacts:
        for column, findings in enumerate((impact.added, impact.removed, [b for _, b in impact.regraded])):
            for f in findings:
                counts.setdefault(f.rule_id, [0, 0, 0])[column] += 1
    return ["| rule | added | removed | re-graded |", "|---|---|---|---|",
            *(f"| `{rule}` | {a} | {r} | {g} |" for rule, (a, r, g) in sorted(counts.items()))]


def format_markdown(impacts: Sequence[DocumentImpact], base_rev: str, documents: int, note: str = "") -> str:
    added = sum(len(i.added) for i in impacts)
    removed = sum(len(i.removed) for i in impacts)
    regraded = sum(len(i.regraded) for i in impacts)
    lines = [f"### Rule impact against `{base_rev}`", "",
             f"{added} findings added, {removed} removed, {regraded} re-graded (severity or category "
             f"changed), in {len(impacts)} of {documents} documents (latest versions)."]
    if note:
        lines += ["", note]
    if impacts:
        lines += ["", *_per_rule(impacts)]
    for impact in impacts:
        lines += ["", f"#### `{impact.document}` (version `{impact.version_id}`)", "",
                  "| change | rule | severity | clause |", "|---|---|---|---|"]
        for sign, findings in (("added", impact.added), ("removed", impact.removed)):
            lines += [f"| {sign} | `{f.rule_id}` | {f.severity} | {_clause(f)} |" for f in findings]
        lines += [f"| re-graded | `{a.rule_id}` | {_regrading(a, b)} | {_clause(b)} |"
                  for a, b in impact.regraded]
    return _capped(lines)


def _capped(lines: list[str]) -> str:
    """The report, cut at a line when it would outgrow a step summary, saying so at its end."""
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        size += len(line.encode()) + 1
        if size > SUMMARY_LIMIT:
            return "\n".join([*kept, "", f"… {len(lines) - index} more lines left out: run "
                               "`clausewatch rules impact` locally for the whole report."]) + "\n"
        kept.append(line)
    return "\n".join(kept) + "\n"


def repository_root(path: Path) -> Path:
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProblemsError([Problem(str(path), "", "not inside a git repository",
                                     "run rules impact from a clone of the project")])
    return Path(result.stdout.strip())


def _git_archive(repo: Path, revision: str, *paths: str) -> subprocess.CompletedProcess[bytes]:
    """A tar of paths as they were at the revision (`git archive`)."""
    try:
        return subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", revision, *paths],
                              capture_output=True, check=False)
    except FileNotFoundError as err:
        raise ProblemsError([Problem("git", "", "git is not installed", "install git")]) from err


def _extract(tar_bytes: bytes, folder: str) -> None:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        tar.extractall(folder, filter="data")


def rules_at_revision(repo: Path, revision: str, content_dir: Path) -> list[Rule]:
    """Load the ruleset as it was at a git revision (an empty list if it did not exist yet)."""
    relative = (content_dir.resolve() / RULES_DIR).relative_to(repo.resolve()).as_posix()
    result = _git_archive(repo, revision, relative)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        if "did not match any files" in message:  # the ruleset did not exist at that revision
            return []
        raise ProblemsError([Problem(f"--base {revision}", "", f"git archive failed: {message}",
                                     "name a commit, branch or tag of this repository")])
    with tempfile.TemporaryDirectory() as tmp:
        _extract(result.stdout, tmp)
        rules_parent = Path(tmp) / Path(relative).parent
        try:
            return list(load_ruleset(rules_parent).rules)
        except ProblemsError as err:
            # Named as git names a file at a revision ("HEAD:content/rules/..."), not by the
            # temporary folder it was read from, and said to be the base's, not the working tree's.
            def at_base(file: str) -> str:
                return file.replace(tmp + "/", f"{revision}:", 1) if file.startswith(tmp) else file
            raise ProblemsError([dataclasses.replace(
                p, file=at_base(p.file), message=f"{p.message} (in the rules of --base {revision})",
                fix="compare with another --base, or fix it there; the working tree's rules are not at "
                    "fault") for p in err.problems]) from err


def engine_changed(repo: Path, revision: str) -> bool:
    """True when the analysis code (generator/) of the working tree differs from the revision's."""
    result = subprocess.run(["git", "-C", str(repo), "diff", "--quiet", revision, "--", ENGINE_DIR],
                            capture_output=True, check=False)
    return result.returncode != 0


class EngineUnavailable(Exception):
    """The revision's own analysis code cannot be run here (too old, or broken at that revision)."""


def findings_at_revision(repo: Path, revision: str, content_dir: Path, archive: Archive,
                         archive_dir: Path) -> FindingsOf:
    """The findings of the revision's code and content on the current archive: `analyze --format
    json` of that revision, run from an export of its generator/ and content/."""
    content = content_dir.resolve().relative_to(repo.resolve()).as_posix()
    result = _git_archive(repo, revision, ENGINE_DIR, content)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise EngineUnavailable(message[-1] if message else "git archive failed")
    keys = [str(doc.key) for doc in archive.documents]
    if not keys:
        return lambda doc: []
    with tempfile.TemporaryDirectory() as tmp:
        _extract(result.stdout, tmp)
        # Run from the export, so that `-m generator` imports the revision's code, not this one.
        run = subprocess.run([sys.executable, "-m", ENGINE_DIR, "analyze", *keys, "--content",
                              str(Path(tmp) / content), "--archive", str(archive_dir.resolve()),
                              "--format", "json"], cwd=tmp, env={**os.environ, "PYTHONPATH": tmp},
                             capture_output=True, text=True, check=False)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineUnavailable(last)
    found: dict[str, list[Finding]] = {}
    try:
        for line in run.stdout.splitlines():
            row = json.loads(line)
            found[row["document"]] = [finding_from_record(f) for f in row["findings"]]
    except (ValueError, KeyError, TypeError) as err:
        raise EngineUnavailable(f"unexpected output of its analyze command ({err})") from err
    return lambda doc: found.get(str(doc.key), [])
