"""Docs that cannot drift: every CLI verb and option is documented in the README."""

from __future__ import annotations

import argparse
import re

from generator.cli import make_parser

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
