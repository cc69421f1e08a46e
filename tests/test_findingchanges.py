"""Findings added, removed and reworded between two versions (findingchanges.py)."""

from __future__ import annotations

from pathlib import Path

from generator.clauses import clause_id
from generator.findingchanges import compare_findings
from generator.model import Finding, Severity

TRANSFER = ("When transferring Personal Data outside of the EEA, Switzerland or the UK, we rely on "
            "the European Commission's Standard Contractual Clauses")


def flag(quote: str, rule: str = "data-transferred-abroad", severity: Severity = "low",
         category: str = "international-transfers", clause: str | None = None) -> Finding:
    return Finding(rule, severity, category, clause or clause_id(quote), quote, 0, len(quote))


def test_a_clause_in_other_words_is_still_flagged() -> None:
    before = [flag(TRANSFER + "."), flag("We may update this policy.", "change-terms-or-service", "medium",
                                         "unilateral-change")]
    after = [flag(TRANSFER.replace("Personal Data", "your personal information") + " (SCCs)."),
             flag("We sell your data to advertisers.", "sells-or-shares-for-advertising", "high", "ads")]
    changes = compare_findings(before, after)
    assert [(old.quote, new.quote) for old, new in changes.reworded] == [(before[0].quote, after[0].quote)]
    assert changes.added == [after[1]] and changes.removed == [before[1]]


def test_only_the_same_rule_at_the_same_severity_rewords() -> None:
    before = [flag(TRANSFER + ".")]
    regraded = [flag(TRANSFER + " at any time.", severity="medium")]
    other_rule = [flag(TRANSFER + " at any time.", rule="kept-after-deletion")]
    for after in (regraded, other_rule):
        changes = compare_findings(before, after)
        assert not changes.reworded and changes.added == after and changes.removed == before


def test_another_provision_of_the_same_rule_is_no_rewording() -> None:
    before = [flag(TRANSFER + ".")]
    after = [flag("Your information may be stored on servers in the United States.")]
    changes = compare_findings(before, after)
    assert not changes.reworded and changes.added == after and changes.removed == before


def test_each_removed_flag_takes_its_closest_added_one_once() -> None:
    a = "We may suspend your account if you break these terms or fail to pay what you owe us."
    b = "We may delete your content if it breaks our community guidelines or the law where you live."
    before = [flag(a, "terminate-at-will", "medium", "termination"), flag(b, "terminate-at-will", "medium",
                                                                          "termination")]
    after = [flag(b.replace("the law", "local law"), "terminate-at-will", "medium", "termination"),
             flag(a.replace("us.", "us, at our discretion."), "terminate-at-will", "medium", "termination")]
    changes = compare_findings(before, after)
    assert [(o.quote, n.quote) for o, n in changes.reworded] == [(a, after[1].quote), (b, after[0].quote)]
    assert not changes.added and not changes.removed


def test_a_first_version_adds_everything_and_a_category_filter_applies() -> None:
    after = [flag(TRANSFER + "."), flag("We may update this policy.", "change-terms-or-service", "medium",
                                        "unilateral-change")]
    assert compare_findings(None, after) == (after, [], [])
    changes = compare_findings([flag(TRANSFER + ", always.")], after)
    assert len(changes.reworded) == 1 and len(changes.added) == 1
    transfers = changes.of_category("international-transfers")
    assert len(transfers.reworded) == 1 and not transfers.added and not transfers.removed
    assert changes.of_category("unilateral-change") == ([after[1]], [], [])


def test_the_committed_site_shows_rewordings_as_still_flagged(committed_site: Path) -> None:
    """Found by a reader's review: ChatGPT's 2026-05-18 changes page listed five transfer clauses as
    no longer flagged, still there in other words; DeepSeek's 2025-08-14 had one quote under both."""
    chatgpt = (committed_site / "chatgpt/privacy-policy/2026-05-18T07-00-18Z/changes/index.html").read_text()
    # (five, two of them items of a list whose lead-in is the flagged provision, quoted with it)
    assert "Still flagged, in other words (3)" in chatgpt and "No longer flagged (1)" in chatgpt
    page = committed_site / "deepseek/privacy-policy/2025-08-14T12-33-13Z" / "changes/index.html"
    deepseek = page.read_text()
    assert "Still flagged, in other words (1)" in deepseek
    assert "Newly flagged" not in deepseek and "No longer flagged" not in deepseek
