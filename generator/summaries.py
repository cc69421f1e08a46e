"""Plain-language and technical summaries of a document's findings, generated deterministically.

The same findings always give the same words; a human-written summary in
content/summaries/<service>/<doc-type>.md replaces the plain-language part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import SEVERITIES, Finding, Rule, Statute


@dataclass(frozen=True)
class StatuteUse:
    statute: Statute
    rules: tuple[str, ...]  # titles of the rules that engage it here


@dataclass(frozen=True)
class Summary:
    plain: tuple[str, ...]  # sentences
    statutes: tuple[StatuteUse, ...]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _lower_join(titles: Sequence[str]) -> str:
    return "; ".join(t[0].lower() + t[1:] for t in titles)


def summarize(title: str, findings: Sequence[Finding], rules: dict[str, Rule],
              analysed: bool = True) -> Summary:
    if not analysed:
        return Summary((f"The rules did not read the {title}: its text is not in English, the only "
                        "language they read. Having no flags says nothing about what it allows.",), ())
    if not findings:
        return Summary((f"Our rules flag no provision of the {title}. That is not a clean bill of "
                        "health: rules only find what they were written to find.",), ())
    by_severity = {s: [f for f in findings if f.severity == s] for s in SEVERITIES}
    counts = [_count(len(by_severity[s]), f"{s}-severity provision") for s in SEVERITIES if by_severity[s]]
    sentences = [f"We flag {_count(len(findings), 'provision')} of the {title}: {_join(counts)}."]
    named: list[str] = []  # rule titles already in a sentence
    milder: list[str] = []  # ... that recur in a lower tier (the rule's milder grade: an opt-out, ...)
    for severity in SEVERITIES:
        titles = list(dict.fromkeys(rules[f.rule_id].title for f in by_severity[severity]
                                    if f.rule_id in rules))
        new = [t for t in titles if t not in named]
        milder += [t for t in titles if t in named and t not in milder]
        if new:
            # A provision is named once, in the most serious tier it reaches: "Most serious: arbitration"
            # then "Minor: arbitration" read as a contradiction.
            lead = {"high": "Most serious", "medium": "Also notable", "low": "Minor"}[severity]
            sentences.append(f"{lead}: {_lower_join(new)}.")
            named += new
    if milder:
        sentences.append(f"In a milder form elsewhere in the text, too: {_lower_join(milder)}.")
    uses: dict[tuple[str, str], tuple[Statute, list[str]]] = {}
    for f in findings:
        rule = rules.get(f.rule_id)
        for statute in rule.statutes if rule else ():
            entry = uses.setdefault((statute.name, statute.article), (statute, []))
            if rule and rule.title not in entry[1]:
                entry[1].append(rule.title)
    statutes = tuple(StatuteUse(statute, tuple(titles))
                     for _, (statute, titles) in sorted(uses.items()))
    return Summary(tuple(sentences), statutes)
