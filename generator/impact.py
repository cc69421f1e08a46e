"""Which findings a rule change adds or removes across the archive (for pull-request comments)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .analyze import Analyzer
from .model import Archive, Finding, Problem, ProblemsError, Rule
from .rules import RULES_DIR, load_ruleset


@dataclass(frozen=True)
class DocumentImpact:
    document: str
    version_id: str
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]


def _key(finding: Finding) -> tuple[str, str]:
    return finding.rule_id, finding.clause_id


def compare(archive: Archive, base: Sequence[Rule], head: Sequence[Rule]) -> list[DocumentImpact]:
    """Findings on the latest version of every document, before and after the rule change."""
    impacts = []
    before_rules, after_rules = Analyzer(base), Analyzer(head)
    for doc in archive.documents:
        text = doc.latest.read_text()
        before = {_key(f): f for f in before_rules.analyze(doc.key.doc_type, text)}
        after = {_key(f): f for f in after_rules.analyze(doc.key.doc_type, text)}
        added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
        removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
        if added or removed:
            impacts.append(DocumentImpact(str(doc.key), doc.latest.id, added, removed))
    return impacts


def _quote(text: str, limit: int = 160) -> str:
    text = text.replace("|", "\\|").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_markdown(impacts: Sequence[DocumentImpact], base_rev: str, documents: int) -> str:
    added = sum(len(i.added) for i in impacts)
    removed = sum(len(i.removed) for i in impacts)
    lines = [f"### Rule impact against `{base_rev}`", "",
             f"{added} findings added, {removed} removed, in {len(impacts)} of {documents} documents "
             "(latest versions)."]
    for impact in impacts:
        lines += ["", f"#### `{impact.document}` (version `{impact.version_id}`)", "",
                  "| change | rule | severity | clause |", "|---|---|---|---|"]
        for sign, findings in (("added", impact.added), ("removed", impact.removed)):
            lines += [f"| {sign} | `{f.rule_id}` | {f.severity} | {_quote(f.quote)} |" for f in findings]
    return "\n".join(lines) + "\n"


def repository_root(path: Path) -> Path:
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProblemsError([Problem(str(path), "", "not inside a git repository",
                                     "run rules impact from a clone of the project")])
    return Path(result.stdout.strip())


def rules_at_revision(repo: Path, revision: str, content_dir: Path) -> list[Rule]:
    """Load the ruleset as it was at a git revision (an empty list if it did not exist yet)."""
    relative = (content_dir.resolve() / RULES_DIR).relative_to(repo.resolve()).as_posix()
    try:
        result = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", revision, relative],
                                capture_output=True, check=False)
    except FileNotFoundError as err:
        raise ProblemsError([Problem("git", "", "git is not installed", "install git")]) from err
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        if "did not match any files" in message:  # the ruleset did not exist at that revision
            return []
        raise ProblemsError([Problem(f"--base {revision}", "", f"git archive failed: {message}",
                                     "name a commit, branch or tag of this repository")])
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(result.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        rules_parent = Path(tmp) / Path(relative).parent
        return list(load_ruleset(rules_parent).rules)
