"""`within: N` measures the distance between the nearest words of two matches (adjacent words are 1
apart, as one-word matches always were), so a long first match (a modal phrase followed by a
parenthetical) does not push the words it must be near out of reach."""

from __future__ import annotations

import re

from generator.analyze import pattern_matches
from generator.lazyregex import LazyRegex
from generator.model import Pattern
from generator.wording import prepare

FLAGS = re.IGNORECASE


def _pattern(*regexes: str, within: int | None) -> Pattern:
    return Pattern(tuple(LazyRegex(r, FLAGS) for r in regexes), within)


LONG_FIRST = _pattern(r"\breserves\s+the\s+right\b[^.]{0,80}?\bterminate\b", r"\baccount\b", within=3)


def test_distance_is_counted_from_the_end_of_a_long_match() -> None:
    text = prepare("Acme reserves the right, at any time and for any reason at all, to terminate your "
                   "account.")
    # "reserves" is 15 words before "account", but the end of its match ("terminate") is only 2.
    assert pattern_matches(LONG_FIRST, text)


def test_words_between_the_matches_still_count() -> None:
    near = prepare("Acme may terminate, after a warning, your account.")
    far = prepare("Acme may terminate the service it offers in your region and then also your account.")
    pattern = _pattern(r"\bterminate\b", r"\baccount\b", within=5)
    assert pattern_matches(pattern, near)
    assert not pattern_matches(pattern, far)


def test_proximity_works_in_both_directions() -> None:
    pattern = _pattern(r"\bprivacy\s+policy\b", r"\bagree\b", within=3)
    assert pattern_matches(pattern, prepare("You agree to our privacy policy."))
    assert pattern_matches(pattern, prepare("Our privacy policy, which you agree to, applies."))
    far = prepare("Our privacy policy explains many things that you may or may not agree with.")
    assert not pattern_matches(pattern, far)


def test_overlapping_matches_are_near() -> None:
    pattern = _pattern(r"\bterminate\s+your\s+account\b", r"\byour\s+account\b", within=0)
    assert pattern_matches(pattern, prepare("We may terminate your account."))


def test_without_within_every_regex_just_has_to_occur() -> None:
    pattern = _pattern(r"\bterminate\b", r"\baccount\b", within=None)
    text = prepare("We may terminate the service, the app, the website and your account.")
    assert pattern_matches(pattern, text)
    assert not pattern_matches(pattern, prepare("We may terminate the service."))
