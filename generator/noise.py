r"""Noise filters: keep volatile bits of a page (tracking parameters, rotating tokens) out of
versions, so that only real wording changes make a new version. Pure, but for a time limit on each
pattern: one that backtracks without end (`(\w+ ?)+\d`) must fail its document's capture, not
stall every document after it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import nullcontext
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .timelimit import TimeLimitExceeded, time_limit

# Query parameters that identify a visit or a campaign, never the document.
VOLATILE_PARAMETERS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|_hs\w+|hsa_\w+|igshid|yclid|"
    r"ref_src|oly_\w+|vero_\w+|s_cid|trk|sessionid|session_id|sid|token|nonce|cb|_|v|ver|version|ts|t)$",
    re.IGNORECASE,
)
_MARKDOWN_LINK = re.compile(r"(\]\()(\s*<?)([^()\s<>]+)(>?)")


def clean_url(url: str) -> str:
    """The URL without volatile query parameters (order of the others kept)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not VOLATILE_PARAMETERS.match(k)]
    return urlunsplit(parts._replace(query=urlencode(kept)))


_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
NOISE_TIME_LIMIT_S = 5.0  # each pattern, on a document's text: milliseconds, or it backtracks
NOISE_FLAGS = re.MULTILINE  # case-sensitive; ^ and $ match at the start and end of each line


def compile_noise(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, NOISE_FLAGS)


class NoiseError(ValueError):
    """A noise pattern that cannot be used: `fix` says what to write instead."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def written(pattern: str) -> str:
    """A pattern quoted as it is written in YAML's single quotes: repr() would double every
    backslash ('(\\\\d+)?'). A character one cannot see (a tab, or the backspace that "\\b" is in
    double quotes) is shown escaped, which reads the same to re."""
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in pattern) + "'"


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # not a tab or a line break


def checked_noise(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, or NoiseError when it is not a regex or could delete text anywhere."""
    if control := _CONTROL.search(pattern):
        # YAML's double quotes read "\b" as a backspace: the pattern would never match, and the
        # noise it was meant to delete would keep making new versions.
        meant = {"\b": "\\b", "\f": "\\f", "\v": "\\v", "\a": "\\a", "\r": "\\r"}.get(control.group(), "")
        raise NoiseError(f"{written(pattern)} holds the control character U+{ord(control.group()):04X}"
                         + (f" where '{meant}' was meant" if meant else ""),
                         "write the pattern in single quotes, so YAML keeps its backslashes")
    try:
        compiled = compile_noise(pattern)
    except re.error as err:
        fix = "fix the expression (quote it in single quotes, so YAML keeps its backslashes)"
        raise NoiseError(f"invalid regular expression: {err}", fix) from err
    if compiled.search("") is not None:
        # '.*' or '(\d+)?' would delete text anywhere, down to an empty "version".
        raise NoiseError(f"{written(pattern)} matches the empty string",
                         "make it match at least one character: '+' instead of '*', no optional whole")
    return compiled


class SlowNoise(Exception):
    """A noise pattern ran past its time limit on a text: it backtracks."""

    def __init__(self, pattern: str, seconds: float) -> None:
        super().__init__(f"the noise pattern {written(pattern)} took over {seconds:g} s on this text (a "
                         "pattern takes milliseconds): it backtracks without end")
        self.pattern = pattern


def apply_noise_filters(markdown: str, patterns: Sequence[re.Pattern[str]] = (),
                        seconds_each: float | None = None) -> str:
    """Clean link URLs, then delete whatever the declared patterns match. A line a pattern empties
    leaves no extra blank lines behind: otherwise the day it stops appearing, the text would change.
    With `seconds_each`, a pattern that runs longer raises SlowNoise."""
    text = _MARKDOWN_LINK.sub(lambda m: m.group(1) + m.group(2) + clean_url(m.group(3)) + m.group(4),
                              markdown)
    deleted = False
    for pattern in patterns:
        try:
            with time_limit(seconds_each) if seconds_each else nullcontext():
                text, count = pattern.subn("", text)
        except TimeLimitExceeded as err:
            raise SlowNoise(pattern.pattern, seconds_each or 0) from err
        deleted = deleted or count > 0
    return _BLANK_RUN.sub("\n\n", text) if deleted else text
