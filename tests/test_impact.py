"""rules impact: a rule edit shows up as findings added and removed, per document."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
    assert "\n| removed |" not in report
    # Narrow it to nothing: every finding it made is removed.
    head, rest = text.split("patterns:\n", 1)
    rule.write_text(head + "patterns:\n  - all: ['\\bzzzz\\b']\nunless:\n" + rest.split("unless:\n", 1)[1])
    assert "| removed | `excludes-liability` |" in impact()
    # Grade it higher: nothing is added or removed, yet every document it flags is re-scored.
    rule.write_text(text.replace("severity: medium", "severity: high", 1))
    regraded = impact()
    assert "0 findings added, 0 removed," in regraded
    assert "| re-graded | `excludes-liability` | high (was medium) |" in regraded
    rule.write_text(text)
    assert "0 findings added, 0 removed, 0 re-graded (severity or category changed), in 0 of 4 documents" \
        in impact()


def test_impact_with_an_unknown_revision_fails_clearly(project: Path) -> None:
    git(project, "init", "-q")
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "impact", "--base", "nope",
                             "--content", str(project / "content"), "--archive", str(project / "archive")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "--base nope" in result.stderr and "git archive failed" in result.stderr


def impact_report(project: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "impact", "--base", "HEAD",
                             "--content", str(project / "content"), "--archive", str(project / "archive")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def commit_engine(project: Path, edit: tuple[str, str, str]) -> None:
    """Commit content/ and a copy of generator/ with one edit; then put the working tree's copy back."""
    engine = project / "generator"
    shutil.copytree(ROOT / "generator", engine, ignore=shutil.ignore_patterns("__pycache__"))
    path, old, new = edit
    source = engine / path
    original = source.read_text()
    assert old in original
    source.write_text(original.replace(old, new, 1))
    git(project, "init", "-q")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "content", "generator")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "engine")
    source.write_text(original)


def test_impact_against_a_base_whose_rules_do_not_load_says_whose_they_are(project: Path) -> None:
    # Found by review: the base's broken rule file was named under a temporary folder, as if the
    # working tree's were at fault.
    rule = project / "content/rules/limitation-of-liability/excludes-liability.yaml"
    text = rule.read_text()
    rule.write_text(text.replace("severity: medium", "severity: hihg", 1))
    git(project, "init", "-q")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "content")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "rules")
    rule.write_text(text)
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "impact", "--base", "HEAD",
                             "--content", str(project / "content"), "--archive", str(project / "archive")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    said = "error: HEAD:content/rules/limitation-of-liability/excludes-liability.yaml: severity: "
    assert said in result.stderr and "(in the rules of --base HEAD)" in result.stderr, result.stderr
    assert "/tmp" not in result.stderr


def test_impact_runs_the_base_revisions_own_analysis_code(project: Path) -> None:
    # The base revision's code drops every liability finding; the rules are the same. A report that
    # read the base rules with the current code would show no change.
    call = "analyze_markdown(ruleset.rules, key.doc_type, text)"
    commit_engine(project, ("commands.py", f"findings = {call}",
                            f"findings = [f for f in {call} if f.rule_id != 'excludes-liability']"))
    report = impact_report(project)
    assert "The analysis code changed too: `HEAD` is measured with its own code and rules." in report
    assert "| added | `excludes-liability` |" in report
    assert "\n| removed |" not in report


def test_impact_falls_back_to_the_rule_files_when_the_base_code_cannot_run(project: Path) -> None:
    commit_engine(project, ("__main__.py", "from", "raise SystemExit('broken at this revision')\nfrom"))
    report = impact_report(project)
    assert "could not be run (broken at this revision): its rule files were read by the current" in report
    assert "0 findings added, 0 removed" in report


def test_impact_report_quotes_captured_text_as_inert_markdown_and_fits_a_step_summary() -> None:
    from generator.impact import SUMMARY_LIMIT, DocumentImpact, format_markdown
    from generator.model import Finding

    hostile = "See [this](https://evil.example) <img src=x onerror=alert(1)> a|b\n`x` & ![i](https://t.example/p.gif)"
    finding = Finding("terminate-at-will", "high", "unilateral-termination", "c-1", hostile, 0, len(hostile))
    impact = DocumentImpact("acme/terms-of-service", "2026-01-01T00-00-00Z", (finding,), ())
    report = format_markdown([impact], "HEAD", 1)
    row = next(line for line in report.splitlines() if line.startswith("| added"))
    assert row.count(" | ") == 3  # four cells: the quote adds no column and no line
    for inert in (r"\[this\]\(https://evil.example\)", r"\<img src=x onerror=alert\(1\)\>", r"a\|b",
                  r"\`x\` &amp; \!\[i\]"):
        assert inert in row, inert
    many = [DocumentImpact(f"acme/doc-{i}", "2026-01-01T00-00-00Z", (finding,) * 50, ()) for i in range(400)]
    big = format_markdown(many, "HEAD", 400)
    assert len(big.encode()) <= SUMMARY_LIMIT + 200 and big.rstrip().endswith("for the whole report.")


def test_impact_report_counts_per_rule_and_names_each_clause() -> None:
    """Found by a contributor's review: quotes cut at 160 characters with no clause id, lead-ins
    without the list items they quote, "medium (was medium)" for a change of category only, and no
    totals per rule for a change to several rules."""
    from generator.impact import DocumentImpact, format_markdown
    from generator.model import Finding

    lead = Finding("terminate-at-will", "high", "unilateral-termination", "c-1a", "We may close it if:",
                   0, 19, "", ("you pay late;", "we feel like it."))
    moved = Finding("claim-deadline", "medium", "claim-deadline", "c-2b", "Claims end after a year.", 30, 54)
    regraded = (moved, moved._replace(category="jurisdiction"))
    impacts = [DocumentImpact("acme/terms-of-service", "v1", (lead,), (), (regraded,)),
               DocumentImpact("acme/privacy-policy", "v1", (lead,), (lead,))]
    report = format_markdown(impacts, "HEAD", 2)
    assert "| `terminate-at-will` | 2 | 1 | 0 |" in report and "| `claim-deadline` | 0 | 0 | 1 |" in report
    said = "| added | `terminate-at-will` | high | `c-1a` We may close it if: you pay late; we feel like it."
    assert said + " |" in report
    assert "| medium, jurisdiction (was claim-deadline) |" in report and "(was medium)" not in report


def test_a_base_that_git_would_read_as_an_option_is_refused(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import main

    victim = tmp_path / "victim.txt"
    victim.write_text("important\n")
    with pytest.raises(SystemExit) as usage:  # `git archive --output=FILE` would have emptied the file
        main(["rules", "impact", f"--base=--output={victim}"])
    assert usage.value.code == 2
    assert "is not a revision: name a commit, branch or tag" in capsys.readouterr().err
    assert victim.read_text() == "important\n"


def test_findings_are_read_back_from_either_shape_of_analyze_json() -> None:
    """`rules impact` runs a base revision's own `analyze --format json`: revisions before the JSON
    API's field names wrote the Finding's own fields (found by CI: the new names broke it)."""
    from generator.findingjson import finding_from_record, finding_record
    from generator.model import Finding

    finding = Finding("excludes-liability", "medium", "limitation-of-liability", "c-1",
                      "We are not liable for:", 0, 22, "", ("(a) delays;", "(b) losses."))
    assert finding_from_record(finding_record(finding, "A title")) == finding
    assert finding_from_record(json.loads(json.dumps(finding._asdict()))) == finding
    with_lead = finding._replace(lead_in="We may:", items=())
    assert finding_from_record(finding_record(with_lead, None)) == with_lead
