"""Texts that look like a failed capture (a stub, another page, another language) are held."""

from __future__ import annotations

import itertools

from generator.archive import load_archive
from generator.plausible import SHRINK_FLOOR, doubtful_change, word_count

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
