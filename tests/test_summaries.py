"""The generated plain-language summary of a document's findings, and the statutes it lists."""

from __future__ import annotations

import pytest

from generator.model import Finding, Rule, Severity
from generator.rules import load_ruleset
from generator.summaries import summarize

from .conftest import ROOT


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_ruleset(ROOT / "content").rules}


def finding(rules: dict[str, Rule], rule_id: str, severity: Severity, n: int = 0) -> Finding:
    rule = rules[rule_id]
    return Finding(rule_id, severity, rule.category, f"c-{n:012x}", f"clause {n}", 0, 9)


def lower(title: str) -> str:
    return title[0].lower() + title[1:]


def test_a_provision_is_named_once_in_its_most_serious_tier(rules: dict[str, Rule]) -> None:
    # An arbitration clause at its full grade and another with the milder grade (an opt-out).
    findings = [finding(rules, "mandatory-arbitration", "high", 1),
                finding(rules, "acceptance-by-use", "low", 2),
                finding(rules, "mandatory-arbitration", "low", 3),
                finding(rules, "excludes-liability", "medium", 4)]
    plain = summarize("Acme Terms of Service", findings, rules).plain
    arbitration = lower(rules["mandatory-arbitration"].title)
    assert plain[0] == ("We flag 4 provisions of the Acme Terms of Service: 1 high-severity provision, "
                        "1 medium-severity provision and 2 low-severity provisions.")
    assert plain[1] == f"Most serious: {arbitration}."
    assert plain[2] == f"Also notable: {lower(rules['excludes-liability'].title)}."
    assert plain[3] == f"Minor: {lower(rules['acceptance-by-use'].title)}."  # arbitration not again
    assert plain[4] == f"In a milder form elsewhere in the text, too: {arbitration}."
    assert len(plain) == 5


def test_tiers_without_findings_and_repeats_in_one_tier_are_left_out(rules: dict[str, Rule]) -> None:
    findings = [finding(rules, "terminate-at-will", "medium", n) for n in range(3)]
    plain = summarize("Acme Terms of Service", findings, rules).plain
    assert plain == ("We flag 3 provisions of the Acme Terms of Service: 3 medium-severity provisions.",
                     f"Also notable: {lower(rules['terminate-at-will'].title)}.")


def test_statutes_list_the_rules_that_engage_them(rules: dict[str, Rule]) -> None:
    findings = [finding(rules, "mandatory-arbitration", "high", 1),
                finding(rules, "class-action-waiver", "high", 2),
                finding(rules, "mandatory-arbitration", "low", 3)]
    statutes = summarize("Acme Terms of Service", findings, rules).statutes
    engaged = {(use.statute.name, use.statute.article): use.rules for use in statutes}
    expected: dict[tuple[str, str], list[str]] = {}
    for rule_id in ("mandatory-arbitration", "class-action-waiver"):
        for statute in rules[rule_id].statutes:
            expected.setdefault((statute.name, statute.article), []).append(rules[rule_id].title)
    assert engaged == {key: tuple(titles) for key, titles in expected.items()}
    assert [(u.statute.name, u.statute.article) for u in statutes] == sorted(engaged)


def test_no_findings_and_unread_texts_say_what_that_means(rules: dict[str, Rule]) -> None:
    clean = summarize("Acme Privacy Policy", [], rules)
    assert clean.statutes == () and "not a clean bill of health" in clean.plain[0]
    unread = summarize("Acme Privacy Policy", [], rules, analysed=False)
    assert "not in English" in unread.plain[0] and "says nothing" in unread.plain[0]
