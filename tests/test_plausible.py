"""Texts that look like a failed capture (a stub, another page, another language) are held."""

from __future__ import annotations

import itertools

from generator.archive import load_archive
from generator.language import text_language
from generator.plausible import (
    SHRINK_FLOOR,
    Size,
    compared_with,
    doubtful_change,
    failed_captures,
    word_count,
)

from .conftest import ROOT

# The real captures in the committed archive's histories (imported from Open Terms Archive) that
# were not the document: a 3-word redirect stub, another page, the German terms served instead.
BAD_CAPTURES = {
    ("le-chat/privacy-policy", "2025-12-15T11-34-51Z"),
    ("waze/privacy-policy", "2023-03-09T09-50-03Z"),
    ("telegram/terms-of-service", "2023-10-19T00-34-30Z"),
}


def test_of_every_real_change_in_the_archive_only_the_bad_captures_are_doubtful() -> None:
    archive = load_archive(ROOT / "archive")
    doubtful, pairs = set(), 0
    for doc in archive.documents:
        texts = [(v.id, v.read_text()) for v in doc.versions]
        for (_, before), (version_id, after) in itertools.pairwise(texts):
            pairs += 1
            if doubtful_change(before, after):
                doubtful.add((str(doc.key), version_id))
    assert pairs > 200
    assert doubtful == BAD_CAPTURES


def test_why_a_text_is_doubtful() -> None:
    policy = "We collect the data you give us and use it to run the service for you. " * 20
    stub = doubtful_change(policy, "Redirecting to legal.example.com")
    assert stub is not None and "shrank to 5 words from the latest version's 320 (2%)" in stub
    german = "Wir verarbeiten deine Daten nur, soweit es für den Dienst nötig ist, und löschen sie. " * 10
    assert word_count(german) > SHRINK_FLOOR * word_count(policy)  # long enough: only the language tells
    language = doubtful_change(policy, german)
    assert language is not None and "no longer reads as English" in language
    # Real changes pass: an edit, a text half as long, a text that grows, a short latest version.
    assert doubtful_change(policy, policy.replace("run the service", "improve our products")) is None
    assert doubtful_change(policy, policy[: len(policy) // 2]) is None
    assert doubtful_change("Terms: be nice.", "Redirecting to legal.example.com") is None
    assert doubtful_change(policy, policy * 3) is None
    # A policy that was not English to begin with is not judged by language.
    assert doubtful_change(german, german + " Neue Regeln gelten ab Mai. " * 5) is None


def _history(*sizes: int | str) -> list[Size]:
    """Sizes in bytes; a string: that many bytes of text in another language."""
    return [Size(int(s), True) if isinstance(s, int) else Size(int(s), False) for s in sizes]


def test_a_failed_capture_is_a_doubtful_run_the_text_comes_back_from() -> None:
    # a stub between two versions of the policy
    assert set(failed_captures(_history(18000, 32, 36000))) == {1}
    assert "32 bytes where the version before it had 18,000" in failed_captures(_history(18000, 32, 36000))[1]
    # two failed captures in a row, judged against the last good version (not each other)
    assert set(failed_captures(_history(9000, 700, 650, 8800, 8900))) == {1, 2}
    # another language for one capture, then English again
    assert set(failed_captures(_history(10000, "9000", 10100))) == {1}
    # a change that lasts (the policy really got shorter, or moved language) is no failed capture
    assert failed_captures(_history(10000, 700, 800, 900)) == {}
    assert failed_captures(_history(10000, "700", "900", "18000")) == {}
    # the latest version is never judged (the next capture decides), nor a first version
    assert failed_captures(_history(10000, 32)) == {}
    assert failed_captures(_history(32, 10000, 10000)) == {}
    # too short to judge a shrink by; growing is no failure
    assert failed_captures(_history(500, 20, 500)) == {}
    assert failed_captures(_history(1000, 9000, 1000)) == {}


def test_each_version_is_compared_with_the_last_good_one_before_it() -> None:
    assert compared_with(_history(9000, 700, 650, 8800, 8900)) == [None, None, None, 0, 3]
    assert compared_with(_history(10000, 700, 800, 900)) == [None, 0, 1, 2]
    assert compared_with([]) == []


def test_in_the_committed_history_the_stub_and_the_other_page_are_failed_captures() -> None:
    """Of the three bad captures, the German terms lasted (every later capture is German): that is
    a change of language to show as such, not a failed capture."""
    archive = load_archive(ROOT / "archive")
    failed = set()
    for doc in archive.documents:
        history = [Size(v.bytes, text_language(v.read_text()) == "en") for v in doc.versions]
        failed |= {(str(doc.key), doc.versions[i].id) for i in failed_captures(history)}
    assert failed == BAD_CAPTURES - {("telegram/terms-of-service", "2023-10-19T00-34-30Z")}
