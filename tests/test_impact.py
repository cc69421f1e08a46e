"""rules impact: a rule edit shows up as findings added and removed, per document."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_impact_reports_a_rule_change(project: Path) -> None:
    git(project, "init", "-q")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "content")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "rules")
    rule = project / "content/rules/limitation-of-liability/excludes-liability.yaml"
    text = rule.read_text()
    # Widen the rule: every clause mentioning "warranty" now counts as a limitation of liability.
    rule.write_text(text.replace("patterns:\n", "patterns:\n  - all: ['\\bwarrant(y|ies)\\b']\n", 1))

    def impact() -> str:
        result = subprocess.run([sys.executable, "-m", "generator", "rules", "impact", "--base", "HEAD",
                                 "--content", str(project / "content"), "--archive",
                                 str(project / "archive")], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    report = impact()
    assert report.startswith("### Rule impact against `HEAD`")
    assert "| added | `excludes-liability` | medium |" in report
    assert "| removed |" not in report
    # Narrow it to nothing: every finding it made is removed.
    head, rest = text.split("patterns:\n", 1)
    rule.write_text(head + "patterns:\n  - all: ['\\bzzzz\\b']\nunless:\n" + rest.split("unless:\n", 1)[1])
    assert "| removed | `excludes-liability` |" in impact()
    rule.write_text(text)
    assert "0 findings added, 0 removed, in 0 of 4 documents" in impact()


def test_impact_with_an_unknown_revision_fails_clearly(project: Path) -> None:
    git(project, "init", "-q")
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "impact", "--base", "nope",
                             "--content", str(project / "content"), "--archive", str(project / "archive")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "--base nope" in result.stderr and "git archive failed" in result.stderr
