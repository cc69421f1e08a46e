"""Noise filters keep tracking parameters and declared volatile text out of versions."""

from __future__ import annotations

import re

from generator.noise import apply_noise_filters, clean_url, compile_noise


def test_volatile_parameters_are_dropped_and_others_kept() -> None:
    assert clean_url("https://a.test/p?utm_source=x&id=7&fbclid=abc&gclid=1") == "https://a.test/p?id=7"
    assert clean_url("https://a.test/p?lang=en") == "https://a.test/p?lang=en"
    assert clean_url("https://a.test/p") == "https://a.test/p"


def test_links_in_markdown_are_cleaned() -> None:
    text = "See [privacy](https://a.test/privacy?utm_campaign=x&section=2) and [t](/t?_ga=1)."
    assert apply_noise_filters(text) == "See [privacy](https://a.test/privacy?section=2) and [t](/t)."


def test_declared_patterns_delete_rotating_text() -> None:
    text = "Terms\n\nPage generated in 0.031 s, request id 8f3a9c.\n\nWe may change these terms.\n"
    noise = (re.compile(r"Page generated in [\d.]+ s, request id \w+\.\n"),)
    # the emptied line leaves no extra blank line: the day it disappears, the text is the same
    without = "Terms\n\nWe may change these terms.\n"
    assert apply_noise_filters(text, noise) == without == apply_noise_filters(without, noise)


def test_declared_patterns_anchor_at_lines() -> None:
    # As contributors write them: ^ and $ at the start and end of a line, case as written.
    text = "# Terms\n\nLast generated at 10:42\n\nWe may change these terms.\nlast generated at 9:00 stays\n"
    noise = (compile_noise(r"^Last generated at \d+:\d+$"),)
    assert apply_noise_filters(text, noise) == \
        "# Terms\n\nWe may change these terms.\nlast generated at 9:00 stays\n"


def test_two_captures_differing_only_in_noise_give_the_same_text() -> None:
    one = "Read [this](https://a.test/x?utm_medium=email&sessionid=1).\n"
    two = "Read [this](https://a.test/x?sessionid=2&utm_medium=web).\n"
    assert apply_noise_filters(one) == apply_noise_filters(two)
