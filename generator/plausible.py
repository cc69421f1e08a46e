"""Does a newly extracted text look like a new version of the document, or like a capture that
went wrong without saying so?

Some failures come with a 200 and a page: a redirect stub ("Redirecting to legal.example.com"),
another page behind the same URL, a site that starts serving another language to the runner's
address. Each extracts to some text, and recorded as a version it would read as the service having
deleted most of its policy: a diff a journalist could quote. In the sample corpus (Open Terms
Archive histories, 222 consecutive pairs of versions) the three texts under a quarter of the
words of the version before were all such captures (Le Chat's privacy policy, 2,835 words to a
3-word redirect stub; Waze's, 9,066 words to 750 of another page; Telegram's terms, 1,468 English
words to 80 German ones), and the only text that stopped reading as English was that German one.
The smallest real change kept 44% of the words (Mistral's terms, split into several documents).

Such a text is held, not recorded: the check is logged as a failure with the reason, and a
maintainer who finds the change real records it with `clausewatch capture KEY --accept-change`.

History imported from Open Terms Archive holds such captures as versions (those three above). They
stay in the archive, as imported, but the site must not read them as the service's changes: see
`failed_captures`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from .language import reads_as_english

SHRINK_FLOOR = 0.25  # a new text with fewer words than this share of the latest version's is held
MIN_WORDS = 100  # a latest version shorter than this is too short to judge a shrink by
_WORD = re.compile(r"\w+")


def word_count(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def _shrank(before: int, after: int, minimum: int) -> bool:
    return before >= minimum and after < SHRINK_FLOOR * before


def doubtful_change(latest: str, new: str) -> str | None:
    """Why `new` looks like a failed capture rather than the next version of `latest`; None when
    it does not."""
    before, after = word_count(latest), word_count(new)
    if _shrank(before, after, MIN_WORDS):
        return (f"the text shrank to {after:,} words from the latest version's {before:,} "
                f"({after / before:.0%}): most likely a stub, an error or another page served as 200")
    if reads_as_english(latest) and not reads_as_english(new):
        return ("the text no longer reads as English, as the latest version did: most likely a page "
                "served in another language (by the runner's address or headers)")
    return None


# Characters a page's bytes could not be decoded to (U+FFFD) beyond which a capture is held: a
# server that names the wrong charset (Latin-1 served as UTF-8) would have them signed into the text
# for good, and a fixed header later would read as a change of the service (found by review).
MIN_UNDECODED = 3


def undecodable(latest: str | None, new: str) -> str | None:
    """Why `new` looks mis-decoded: more undecodable characters than the latest version had (a
    first capture: any beyond the few a page may really hold); None when it does not."""
    found, before = new.count("\ufffd"), (latest or "").count("\ufffd")
    if found >= MIN_UNDECODED and found > before:
        return (f"{found:,} characters of the page did not decode in the charset it was served in "
                f"(the latest version had {before:,}): most likely the server names the wrong charset")
    return None


MIN_BYTES = 600  # about MIN_WORDS words of policy text


class Size(NamedTuple):
    """What the history check knows of a version without reading its text."""
    bytes: int
    english: bool


def _doubtful_size(before: Size, after: Size) -> str | None:
    """`doubtful_change`'s test, by what is known without reading the texts (bytes for words)."""
    if _shrank(before.bytes, after.bytes, MIN_BYTES):
        return (f"its text is {after.bytes:,} bytes where the version before it had {before.bytes:,} "
                f"({after.bytes / before.bytes:.0%}): most likely a stub, an error or another page")
    if before.english and not after.english:
        return "its text does not read as English, as the versions before and after it do"
    return None


def failed_captures(history: Sequence[Size]) -> dict[int, str]:
    """Versions of a history (oldest first) that look like captures that went wrong without saying
    so, by index, with the reason: a run of versions each doubtful against the last good one before
    it (the same test as `doubtful_change`, by size), after which the text comes back. A run that
    lasts to the latest version is not one: the page did change, or it is still failing, and the
    next capture decides."""
    failed: dict[int, str] = {}
    good = 0  # the last version before i not in a failed run
    i = 1
    while i < len(history):
        reason = _doubtful_size(history[good], history[i])
        if reason is None:
            good, i = i, i + 1
            continue
        end = i + 1  # the first version after the run
        while end < len(history) and _doubtful_size(history[good], history[end]) is not None:
            end += 1
        if end == len(history):  # never came back
            break
        for j in range(i, end):
            failed[j] = _doubtful_size(history[good], history[j]) or reason
        good, i = end, end + 1
    return failed


def compared_with(history: Sequence[Size]) -> list[int | None]:
    """Per version, the index of the version its findings are compared with: the last before it
    that is no failed capture (`failed_captures`); None for the first version and for a failed
    capture, which is compared with nothing."""
    failed = failed_captures(history)
    bases: list[int | None] = []
    last: int | None = None
    for i in range(len(history)):
        bases.append(None if i in failed else last)
        if i not in failed:
            last = i
    return bases
