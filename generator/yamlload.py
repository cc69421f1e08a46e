"""YAML parsing: libyaml's C parser when PyYAML has it (several times faster on the content
folder a build reads), else the pure-Python one. Both build values with the same safe
constructor; on an error the pure-Python parser runs again so messages are the same everywhere."""

from __future__ import annotations

from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The document's value; raises yaml.YAMLError for any text that is not valid YAML."""
    try:
        return yaml.load(text, Loader=_FAST)
    except yaml.YAMLError as fast_error:
        try:
            return yaml.safe_load(text)  # raises again, with the pure-Python parser's message
        except RecursionError:  # nesting libyaml refused is too deep for the pure-Python parser
            raise fast_error from None
    except (ValueError, OverflowError, RecursionError) as err:
        # The constructors raise these themselves for some values that parse ("2024-13-01" read as
        # a date) and for nesting too deep to build: YAML errors all the same, for every caller.
        raise yaml.constructor.ConstructorError(problem=f"a value cannot be read ({err})") from err
