"""YAML parsing: libyaml's C parser when PyYAML has it (several times faster on the content
folder a build reads), else the pure-Python one. Both build values with the same safe
constructor; on an error the pure-Python parser runs again so messages are the same everywhere."""

from __future__ import annotations

from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_FAST)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises again, with the pure-Python parser's message
