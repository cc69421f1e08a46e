"""Docs that cannot drift: every CLI verb and option is documented in the README; the sample rule
of CONTRIBUTING.md passes `clausewatch rules test`."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest

from generator.cli import main, make_parser

from .conftest import ROOT


def verbs(parser: argparse.ArgumentParser | None = None,
          prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every verb, nested ones as 'rules eval', with its parser."""
    parser = parser or make_parser()
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix}{name}"] = sub
                found.update(verbs(sub, f"{prefix}{name} "))
    return found


def test_every_verb_and_option_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = []
    for name, sub in verbs().items():
        if f"clausewatch {name}" not in readme:
            missing.append(name)
        for action in sub._actions:
            missing += [f"{name} {o}" for o in action.option_strings
                        if o.startswith("--") and o != "--help" and o not in readme]
    assert missing == []


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert first_block
    commands = [line for line in first_block.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    assert "clausewatch serve" in commands[0] and ".ci/run" in commands[1]


def test_the_sample_rule_of_contributing_passes_rules_test(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A contributor pastes it to start a rule: its examples must agree with its patterns.
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    sample = next(block for block in re.findall(r"```yaml\n(.*?)```", contributing, re.S)
                  if block.startswith("id: "))
    rule_id = sample.split(None, 2)[1]
    category = re.search(r"^category: (\S+)", sample, re.M)
    assert category
    rules = tmp_path / "content" / "rules"
    (rules / category.group(1)).mkdir(parents=True)
    for name in ("categories.yaml", "label-mapping.yaml"):
        shutil.copy(ROOT / "content" / "rules" / name, rules / name)
    (rules / category.group(1) / f"{rule_id}.yaml").write_text(sample)
    # No services in this content folder: the rule is checked without the declared document types.
    assert main(["rules", "test", "--content", str(tmp_path / "content")]) == 0, capsys.readouterr().err
    assert "0 failed" in capsys.readouterr().out
