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
"""

from __future__ import annotations

import re

from .language import reads_as_english

SHRINK_FLOOR = 0.25  # a new text with fewer words than this share of the latest version's is held
MIN_WORDS = 100  # a latest version shorter than this is too short to judge a shrink by
_WORD = re.compile(r"\w+")


def word_count(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def doubtful_change(latest: str, new: str) -> str | None:
    """Why `new` looks like a failed capture rather than the next version of `latest`; None when
    it does not."""
    before, after = word_count(latest), word_count(new)
    if before >= MIN_WORDS and after < SHRINK_FLOOR * before:
        return (f"the text shrank to {after:,} words from the latest version's {before:,} "
                f"({after / before:.0%}): most likely a stub, an error or another page served as 200")
    if reads_as_english(latest) and not reads_as_english(new):
        return ("the text no longer reads as English, as the latest version did: most likely a page "
                "served in another language (by the runner's address or headers)")
    return None
