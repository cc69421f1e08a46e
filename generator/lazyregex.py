"""A rule's regular expression, compiled when first searched with.

The ruleset holds about 500 regexes, and compiling them all took a tenth of a build that adds one
version: such a build meets only that version's few new clause wordings (the others' matches are
cached), and most never reach them (the literal gates kept from an earlier build rule them out, see
prefilter.py; an exception is searched only after a pattern matched). Validation compiles them all,
and a build compiles them all unless the very same regexes compiled in an earlier one (pipeline.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator


class LazyRegex:
    """Searches like re.Pattern; equal (and hashed) by pattern and flags, as re.Pattern is."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self._flags)
        return self._compiled

    @property
    def key(self) -> str:
        """Names the regex as given (pattern and flags) without compiling it: for caches."""
        return f"{self._flags} {self.pattern}"

    @property
    def flags(self) -> int:
        return self.compiled.flags  # as re reports them (it adds re.UNICODE to str patterns)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyRegex) and (self.pattern, self._flags) == (other.pattern, other._flags)

    def __hash__(self) -> int:
        return hash((self.pattern, self._flags))

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self._flags!r})"


def compile_all(regexes: Iterable[LazyRegex]) -> None:
    """Compile now: before forking workers, so that each does not compile the same regexes again."""
    for regex in regexes:
        regex.compiled  # noqa: B018 (compiling is the point)
