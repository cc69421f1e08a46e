"""YAML parsing: libyaml's C parser when PyYAML has it (several times faster on the content
folder a build reads), else the pure-Python one. Both build values with the same safe
constructor; on an error the pure-Python parser runs again so messages are the same everywhere."""

from __future__ import annotations

from typing import Any

import yaml

from .model import Problem


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """A mapping, refusing a key written twice: YAML keeps the last one in silence, so a second
    'patterns:' or 'terms-of-service:' would quietly replace the first."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: the constructor below says so
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"the key {key!r} appears twice", key_node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


class _Loader(yaml.SafeLoader):
    pass


for _loader in (_FastLoader, _Loader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml(text: str) -> Any:
    """The document's value; raises yaml.YAMLError for any text that is not valid YAML, or that
    writes a key twice in one mapping."""
    try:
        return yaml.load(text, Loader=_FastLoader)
    except yaml.YAMLError as fast_error:
        try:
            return yaml.load(text, Loader=_Loader)  # raises again, with its message
        except RecursionError:  # nesting libyaml refused is too deep for the pure-Python parser
            raise fast_error from None
    except (ValueError, OverflowError, RecursionError) as err:
        # The constructors raise these themselves for some values that parse ("2024-13-01" read as
        # a date) and for nesting too deep to build: YAML errors all the same, for every caller.
        raise yaml.constructor.ConstructorError(problem=f"a value cannot be read ({err})") from err


TAB_FIX = "replace the tab with spaces: YAML indents with spaces only"


def yaml_problem(file: str, err: yaml.YAMLError, fix: str, where: str = "", first_line: int = 1) -> Problem:
    """A YAML error as one problem: `where` and the file's line (`first_line`: the line the YAML
    starts on), PyYAML's one-line reason, and `fix`, unless the problem is a tab, which an editor
    shows as spaces, so that advice about indentation would not find it."""
    mark = getattr(err, "problem_mark", None)
    key = ", ".join(part for part in (where, f"line {mark.line + first_line}" if mark else "") if part)
    reason = getattr(err, "problem", None) or err
    if "appears twice" in str(reason):  # (see _mapping_without_duplicates) advice on syntax would not help
        fix = "remove one of the two, or rename it"
    elif "unknown escape character" in str(reason):  # a regex in double quotes: \w, \s, \d are no escapes
        fix = ("write it in single quotes, in which YAML keeps backslashes as they are: '\\bword\\w*\\b' "
               "(in double quotes \\b would silently become a backspace)")
    elif any(s in str(reason) for s in ("expected <block end>", "mapping values are not allowed",
                                        "could not find expected ':'", "did not find expected key")):
        # where PyYAML noticed, which is often the line after the one at fault
        fix = ("check the indentation of this line and the one above it: items of one list start with '-' "
               "in the same column, a key's value goes on its line or indented under it; and quote a text "
               "that holds ': '")
    return Problem(file, key, f"not valid YAML: {reason}", TAB_FIX if "'\\t'" in str(reason) else fix)
