"""The ruleset: valid, every example behaves, broken rule files are named precisely."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.analyze import Analyzer, analyze_markdown, check_examples, list_items, matching_rules
from generator.clauses import split_clauses
from generator.commands import example_count
from generator.content import load_content
from generator.model import ProblemsError, Rule
from generator.rewrites import REWRITES
from generator.robustness import CLAUSE_NUMBERS, Flip, flips, rewritten_examples
from generator.rules import MIN_EXAMPLES, OFFICIAL_LAW_HOSTS, load_ruleset

from .conftest import DATA, ROOT

RULESET = load_ruleset(ROOT / "content", {t.slug for t in load_content(ROOT / "content").document_types})
RULES = RULESET.rules
EXAMPLES = sum(example_count(r) for r in RULES)
PATTERNS = sum(len(r.patterns) for r in RULES)
INVALID = sorted((DATA / "invalid-rules").glob("*.yaml"))


def test_ruleset_covers_the_required_categories() -> None:
    required = {"ai-training", "human-review", "arbitration", "class-action-waiver", "unilateral-change",
                "unilateral-termination", "limitation-of-liability", "jurisdiction", "choice-of-law",
                "content-removal", "contract-by-using", "content-licence", "indemnification",
                "data-sharing", "tracking", "data-retention", "biometric-data", "childrens-data",
                "international-transfers", "privacy-included"}
    assert required <= {c.slug for c in RULESET.categories}
    assert required <= {r.category for r in RULES}


# Who publishes the law itself: a reader checking a citation lands on the official text (found by a
# reader's review: the Federal Arbitration Act and the FTC Act were linked on law.cornell.edu).
def test_every_statute_links_to_its_official_publisher() -> None:
    from urllib.parse import urlsplit

    links = [(r.id, s.url) for r in RULES for s in r.statutes]
    assert links and all(urlsplit(url).scheme == "https" for _, url in links)
    assert [(rule, url) for rule, url in links if urlsplit(url).hostname not in OFFICIAL_LAW_HOSTS] == []
    assert "www.law.cornell.edu" not in OFFICIAL_LAW_HOSTS  # a mirror, whatever its merits


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples(rule: Rule) -> None:
    assert len(rule.examples_match) >= MIN_EXAMPLES and len(rule.examples_no_match) >= MIN_EXAMPLES
    assert rule.statutes and rule.explanation
    failures = check_examples([rule])
    assert not failures, [(f.sentence, f.expected) for f in failures]


@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_broken_rule_file_is_reported_precisely(fixture: Path, tmp_path: Path) -> None:
    rules = tmp_path / "content" / "rules"
    (rules / "arbitration").mkdir(parents=True)
    for name in ("categories.yaml", "label-mapping.yaml"):
        shutil.copy(ROOT / "content" / "rules" / name, rules / name)
    shutil.copy(fixture, rules / "arbitration" / fixture.name)
    expected = fixture.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(tmp_path / "content", {"terms-of-service", "privacy-policy"})
    problems = [str(p) for p in caught.value.problems]
    assert any(f"{fixture.name}: {expected}" in p for p in problems), problems


def test_validate_reports_a_failing_example(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    rule = tmp_path / "content/rules/arbitration/mandatory-arbitration.yaml"
    extra = "    - You and Acme agree to binding arbitration of all disputes.\n"
    text = rule.read_text().replace("  no_match:\n", "  no_match:\n" + extra, 1)
    rule.write_text(text)
    result = subprocess.run([sys.executable, "-m", "generator", "validate", "--content",
                             str(tmp_path / "content")], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert re.search(r"mandatory-arbitration.yaml: examples.no_match: matched by patterns\[[^:]*: 'You "
                     r"and Acme agree to binding .*\(fix: narrow patterns\[\d+\].*, or add an 'unless'",
                     result.stderr), result.stderr


def test_an_example_an_exception_cancels_is_named_so(tmp_path: Path) -> None:
    """An 'unless' added for other sentences that takes a 'match' example once read "does not match",
    as if no pattern had."""
    result = rules_test_with(tmp_path, "arbitration/mandatory-arbitration.yaml", "unless:\n",
                             "unless:\n  - '\\bbinding\\b'\n")
    assert result.returncode == 1
    assert re.search(r"examples.match: matched by patterns\[\d+\](, patterns\[\d+\])*( and patterns\[\d+\])? "
                     r"but cancelled by unless\[0\]: '[^']*binding.*\(fix: narrow unless\[0\] so it leaves "
                     r"this example alone", result.stderr), result.stderr
    assert "milder.examples.full: matched by patterns[" in result.stderr


@pytest.mark.parametrize("verb", [["validate"], ["rules", "test"]])
def test_a_regex_that_backtracks_without_end_fails_naming_it(verb: list[str], tmp_path: Path) -> None:
    arbitration = "arbitration/mandatory-arbitration.yaml"
    content = content_with_rules(tmp_path, arbitration, BYSTANDER)
    rule = content / "rules" / arbitration
    rule.write_text(rule.read_text().replace("unless:\n", "unless:\n  - '^(\\w+\\s?)+$'\n", 1))
    command = [sys.executable, "-m", "generator", *verb, "--content", str(content)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    assert "mandatory-arbitration.yaml: unless[0]: takes over 2 s on the rule's examples" in result.stderr
    if verb == ["rules", "test"]:  # none of the rule's examples, nor of its patterns, is known to pass
        failed, broken_patterns = totals(arbitration)
        examples, patterns = totals(arbitration, BYSTANDER)
        assert result.stdout.startswith(f"{examples - failed} passed, {failed} failed")
        assert f"; {patterns - broken_patterns} of their {patterns} patterns" in result.stdout


@pytest.mark.parametrize("verb", [["validate"], ["rules", "test"]])
def test_a_pattern_that_backtracks_on_a_match_example_fails_naming_it(verb: list[str],
                                                                      tmp_path: Path) -> None:
    # Each pattern also meets each 'match' example on its own (is any pattern untested?): that check
    # has the same time limit as the examples'.
    content = content_with_rules(tmp_path, "arbitration/mandatory-arbitration.yaml", BYSTANDER)
    rule = content / "rules/arbitration/mandatory-arbitration.yaml"
    text = rule.read_text().replace("patterns:\n", "patterns:\n  - all: ['(a+)+$']\n", 1)
    rule.write_text(text.replace("  match:\n", "  match:\n    - " + "a" * 44 + "b\n", 1))
    command = [sys.executable, "-m", "generator", *verb, "--content", str(content)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    assert "mandatory-arbitration.yaml: patterns[0].all[0]: takes over 2 s on the rule's examples" \
        in result.stderr


def test_a_categories_file_of_another_shape_is_reported_once(tmp_path: Path) -> None:
    # Found by trying the verbs: written as a list, it gave one "unknown category" per rule file and
    # not a word about the file itself.
    shutil.copytree(ROOT / "content" / "rules", tmp_path / "content" / "rules")
    (tmp_path / "content/rules/categories.yaml").write_text("- arbitration\n- jurisdiction\n")
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(tmp_path / "content", {"terms-of-service", "privacy-policy"})
    problems = [str(p) for p in caught.value.problems]
    said = "categories.yaml: must map category slugs to their names, not be a list"
    assert any(said in p for p in problems)
    assert not [p for p in problems if "unknown category" in p and "label-mapping" not in p], problems


DOC_TYPES = {t.slug for t in load_content(ROOT / "content").document_types}


def test_a_categories_file_that_does_not_load_is_its_one_problem(tmp_path: Path) -> None:
    # Found by review: a duplicate key in categories.yaml gave its own error and 36 "unknown category"
    # errors, one per rule file and label.
    shutil.copytree(ROOT / "content" / "rules", tmp_path / "content" / "rules")
    categories = tmp_path / "content/rules/categories.yaml"
    categories.write_text(categories.read_text() + "arbitration:\n  name: again\n  description: d\n")
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(tmp_path / "content", DOC_TYPES)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1 and "categories.yaml" in problems[0], problems


@pytest.mark.parametrize(("entry", "said"), [
    ("dormancy:\n  name: Dormancy\n  descripton: d\n", "dormancy.descripton: unknown key (fix: did you "
     "mean 'description'?)"),
    ("dormancy:\n  name: Dormancy\n", "dormancy: needs a kebab-case slug, a 'name' and a 'description'"),
])
def test_a_category_needs_its_name_and_description_and_no_other_key(tmp_path: Path, entry: str,
                                                                     said: str) -> None:
    # Found by review: a misspelt description passed, and the category's page showed an empty lede.
    shutil.copytree(ROOT / "content" / "rules", tmp_path / "content" / "rules")
    categories = tmp_path / "content/rules/categories.yaml"
    categories.write_text(categories.read_text() + entry)
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(tmp_path / "content", DOC_TYPES)
    problems = [str(p) for p in caught.value.problems]
    assert any(said in p for p in problems), problems


def test_a_duplicate_rule_id_names_both_files(tmp_path: Path) -> None:
    # The id must be the file name, so a duplicate is the same file name in two category folders:
    # naming only one of them left the contributor to search for the other.
    shutil.copytree(ROOT / "content" / "rules", tmp_path / "content" / "rules")
    rules = tmp_path / "content" / "rules"
    original = rules / "unilateral-termination" / "terminate-at-will.yaml"
    text = original.read_text().replace("category: unilateral-termination", "category: jurisdiction", 1)
    (rules / "jurisdiction" / "terminate-at-will.yaml").write_text(text)
    with pytest.raises(ProblemsError) as caught:
        load_ruleset(tmp_path / "content")
    problems = [str(p) for p in caught.value.problems]
    said = (f"{original}: id: duplicate rule id 'terminate-at-will', also the id of "
            f"{rules / 'jurisdiction' / 'terminate-at-will.yaml'} (fix: ")
    assert len(problems) == 1 and said in problems[0], problems


def test_rules_test_cli_passes() -> None:
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "test"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{EXAMPLES} passed, 0 failed (the examples of {len(RULES)} rules")
    assert f"; {PATTERNS} of their {PATTERNS} patterns matched by an example; " in result.stdout
    exercised = re.search(r"; (\d+) of their (\d+) exceptions cancel a 'no_match' example\)$", result.stdout)
    assert exercised and int(exercised[1]) == int(exercised[2]) > 0


def test_an_exception_no_example_exercises_fails_rules_test(tmp_path: Path) -> None:
    """Found by a contributor's review: deleting an exception, or adding one that never fires,
    left `rules test` passing."""
    result = rules_test_with(tmp_path, "arbitration/mandatory-arbitration.yaml", "unless:\n",
                             "unless:\n  - '\\bzebra\\b'\n")
    assert result.returncode == 1
    assert ("mandatory-arbitration.yaml: unless[0]: cancels no 'no_match' example that a pattern matches "
            "(fix: add a 'no_match' example") in result.stderr


# A rule left as it is beside the one a test breaks: its examples still count as passed.
BYSTANDER = "class-action-waiver/class-action-waiver.yaml"


def content_with_rules(tmp_path: Path, *rule_files: str) -> Path:
    """A copy of content/ holding only these rule files (with the categories and label mapping):
    `rules test` reads one rule in about a second and all of them in over ten, so a test of what it
    says about one broken rule need not read the others."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content, ignore=shutil.ignore_patterns("rules"))
    for name in ("categories.yaml", "label-mapping.yaml", *rule_files):
        (content / "rules" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "content" / "rules" / name, content / "rules" / name)
    return content


def rule_named(rule_file: str) -> Rule:
    return next(r for r in RULES if r.id == Path(rule_file).stem)


def totals(*rule_files: str) -> tuple[int, int]:
    """The examples and patterns of these rules, as `rules test` counts them."""
    rules = [rule_named(f) for f in rule_files]
    return sum(example_count(r) for r in rules), sum(len(r.patterns) for r in rules)


def rules_test_with(tmp_path: Path, rule_file: str, old: str, new: str) -> subprocess.CompletedProcess[str]:
    """`rules test` over this rule file, with `old` replaced by `new` once, and the bystander rule."""
    content = content_with_rules(tmp_path, rule_file, BYSTANDER)
    rule = content / "rules" / rule_file
    rule.write_text(rule.read_text().replace(old, new, 1))
    return subprocess.run([sys.executable, "-m", "generator", "rules", "test", "--content", str(content)],
                          capture_output=True, text=True, check=False)


def test_rules_test_names_a_pattern_no_example_matches(tmp_path: Path) -> None:
    untested = "  - all: ['\\barbitral award\\b']\n"
    result = rules_test_with(tmp_path, "arbitration/mandatory-arbitration.yaml", "patterns:\n",
                             "patterns:\n" + untested)
    assert result.returncode == 1
    assert "mandatory-arbitration.yaml: patterns[0]: no 'match' example matches this pattern" in result.stderr
    # The summary once said every pattern was matched, then once "0 failed" while `rules test` failed.
    examples, patterns = totals("arbitration/mandatory-arbitration.yaml", BYSTANDER)
    assert result.stdout.startswith(f"{examples} passed, 0 failed")
    assert f"; {patterns} of their {patterns + 1} patterns matched by an example; " in result.stdout
    assert "; FAILED: 1 problem(s), listed above" in result.stdout
    # In double quotes YAML turns \b into a backspace: the regex could never match, and is refused.
    dead = '  - all: ["\\barbitral award\\b"]\n'
    result = rules_test_with(tmp_path / "dead", "arbitration/mandatory-arbitration.yaml", "patterns:\n",
                             "patterns:\n" + dead)
    assert result.returncode == 1
    assert ("mandatory-arbitration.yaml: patterns[0].all[0]: holds the control character '\\x08', which YAML "
            "made of a backslash escape in double quotes (fix: write the regex in single quotes: "
            "'\\barbitral award\\b')") in result.stderr


WINDOW = 8  # words: a shared run this long means text was copied, not written


def _windows(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i:i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def test_patterns_and_examples_are_not_copied_from_development_sentences(clauses_dir: Path) -> None:
    """Rules must generalize. No pattern shares an 8-word run with a labelled dev sentence, and
    no example is mostly made of such runs (a legal formula or two in a sentence is fine)."""
    files = sorted(clauses_dir.glob("*.dev.jsonl"))
    assert len(files) == 2, f"the labelled development files are expected in {clauses_dir}"
    dev: set[str] = set()
    for f in files:
        for line in f.read_text().splitlines():
            dev |= _windows(json.loads(line)["text"])
    assert len(dev) > 100_000
    # A regex's literal words: escapes and operators read as word breaks.
    literals = [re.sub(r"\\[a-zA-Z]|[\\()\[\]?*+|{}^$.]", " ", p.pattern)
                for r in RULES for pattern in r.patterns for p in pattern.all]
    assert [text for text in literals if _windows(text) & dev] == []
    examples = [e for r in RULES for e in r.examples_match + r.examples_no_match]
    copied = [e for e in examples if _windows(e) and len(_windows(e) & dev) * 3 >= len(_windows(e)) * 2]
    assert copied == []


def test_matching_is_case_and_quote_insensitive() -> None:
    rules = [r for r in RULES if r.id == "mandatory-arbitration"]
    assert matching_rules(rules, "ALL DISPUTES WILL BE RESOLVED BY BINDING ARBITRATION INSTEAD OF IN COURT.")
    # Every example with a quote mark or an apostrophe reads the same written with typographic ones.
    curly = str.maketrans({"'": "\u2019", '"': "\u201c"})
    quoted = [s for r in RULES for s in (*r.examples_match, *r.examples_no_match) if "'" in s or '"' in s]
    assert len(quoted) > 20
    for sentence in quoted:
        assert matching_rules(RULES, sentence.translate(curly)) == matching_rules(RULES, sentence), sentence


@functools.cache
def example_flips() -> tuple[Flip, ...]:
    return tuple(flips(RULES))  # robustness.py: the same check `rules test` runs


@pytest.mark.parametrize("number", CLAUSE_NUMBERS)
def test_every_rule_example_reads_the_same_with_a_clause_number_in_front(number: str) -> None:
    # Terms number their clauses; a rule part anchored at the start (^) must see the sentence.
    assert [(f.rule.id, f.sentence) for f in example_flips() if f.how == f"numbered {number}"] == []


@pytest.mark.parametrize("how", sorted(REWRITES))
def test_every_rule_example_reads_the_same_rewritten(how: str) -> None:
    # Capitals (printed liability sections), contractions (plain-language terms), a clause number,
    # "the user" for "you": a finding must not appear or vanish for any of them.
    changed = [e for e in rewritten_examples(RULES) if e[1] == how]
    assert len(changed) > 20  # the check was exercised
    assert [(f.rule.id, f.sentence, f.rewritten) for f in example_flips() if f.how == how] == []


def test_rules_test_reports_a_rule_that_reads_a_rewritten_example_otherwise(tmp_path: Path) -> None:
    # Case-sensitive, the pattern misses the example in capitals: pytest failed, rules test passed.
    content = content_with_rules(tmp_path, "arbitration/mandatory-arbitration.yaml", BYSTANDER)
    rule = content / "rules/arbitration/mandatory-arbitration.yaml"
    text = rule.read_text().replace("patterns:\n", "patterns:\n  - all: ['(?-i:\\bumpire\\b)']\n", 1)
    example = "    - Every dispute goes to an umpire chosen by Acme.\n"
    text = text.replace("  match:\n", "  match:\n" + example, 1)
    # ... also when another example fails as written (the rewrites were then not read at all).
    wrong = "    - All disputes between you and Acme go to binding arbitration in Zurich.\n"
    rule.write_text(text.replace("  no_match:\n", "  no_match:\n" + wrong, 1))
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "test", "--content", str(content)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "mandatory-arbitration.yaml: examples.match: reads otherwise in capitals: 'EVERY DISPUTE GOES TO" \
        in result.stderr
    assert "no_match: matched by patterns[" in result.stderr
    assert "]: 'All disputes between you and Acme go to binding arbitration in Zurich.'" in result.stderr
    examples, _ = totals("arbitration/mandatory-arbitration.yaml", BYSTANDER)
    assert result.stdout.startswith(f"{examples} passed, 2 failed")


def test_list_items_are_read_after_their_lead_in_by_rules_that_ask_for_it() -> None:
    md = ("Acme is not liable for:\n\n- any loss of goodwill or reputation;\n"
          "- any delay caused by your bank.\n\n"
          "We may take these measures:\n\n- suspend or close your account;\n- warn you by email;\n"
          "- removal of your posts.\n\n"
          "By using Acme, you agree to be bound by:\n\n- these Terms of Use;\n- our house rules.\n")
    found = {(f.rule_id, f.quote) for f in analyze_markdown(RULES, "terms-of-service", md)}
    assert ("excludes-liability", "any delay caused by your bank.") in found  # only with its lead-in
    assert ("terminate-at-will", "suspend or close your account;") in found
    assert ("terminate-at-will", "warn you by email;") not in found
    assert ("remove-user-content", "removal of your posts.") in found
    # Acceptance by use does not ask for lead-ins: its lead-in matches, the items on their own do not.
    lead_in = "By using Acme, you agree to be bound by:"
    assert [r.id for r in matching_rules(RULES, lead_in + " these Terms of Use;")] == ["acceptance-by-use"]
    assert not any(rule == "acceptance-by-use" and quote != lead_in for rule, quote in found)
    assert {r.id for r in RULES if r.lead_in} == {"excludes-liability", "terminate-at-will",
                                                  "remove-user-content", "trains-on-user-content",
                                                  "broad-content-licence"}
    # A privacy notice's list of purposes (the rule missed Perplexity's "improve or create services
    # and products, including our AI models" under "We also use data to:").
    purposes = ("We also use information to:\n\n- send you receipts;\n"
                "- improve or build products and services, including our AI models.\n")
    assert [(f.rule_id, f.quote, f.lead_in) for f in analyze_markdown(RULES, "privacy-policy", purposes)] == [
        ("trains-on-user-content", "improve or build products and services, including our AI models.",
         "We also use information to:")]
    # A finding made only through the lead-in carries it, so that pages can show why it is flagged.
    leads = {(f.rule_id, f.quote): f.lead_in for f in analyze_markdown(RULES, "terms-of-service", md)}
    assert leads[("excludes-liability", "any delay caused by your bank.")] == "Acme is not liable for:"
    item = "We may stop:\n\n- Acme may terminate your account at any time.\n"
    own = analyze_markdown(RULES, "terms-of-service", item)
    assert [(f.rule_id, f.lead_in) for f in own] == [("terminate-at-will", "")]  # flagged on its own words


def test_a_list_whose_lead_in_carries_the_rule_is_one_provision() -> None:
    md = ("We may suspend or terminate your account at any time if:\n\n- you breach these Terms;\n"
          "- we must do so to comply with the law.\n\n"
          "We may take these measures:\n\n- suspend or close your account;\n- warn you by email.\n")
    found = [(f.rule_id, f.quote, f.lead_in) for f in analyze_markdown(RULES, "terms-of-service", md)]
    lead_in = "We may suspend or terminate your account at any time if:"
    # The lead-in is flagged; its items, which match only as read after it, are not flagged again.
    assert [(q, lead) for rule, q, lead in found if rule == "terminate-at-will"] == [
        (lead_in, ""), ("suspend or close your account;", "We may take these measures:")]
    # Read after the lead-in, the items do match: they are left out for being its provision.
    assert "terminate-at-will" in [r.id for r in matching_rules(RULES, "you breach these Terms;", lead_in)]
    # The lead-in's finding carries its list, so that its card shows the whole provision.
    lead = next(f for f in analyze_markdown(RULES, "terms-of-service", md) if f.quote == lead_in)
    assert lead.items == ("you breach these Terms;", "we must do so to comply with the law.")


def test_the_items_of_a_list_are_those_after_its_lead_in_each_with_all_its_sentences() -> None:
    md = ("Intro text.\n\nWe may share your data with:\n\n- our partners. They sign contracts.\n"
          "- advertisers;\n  - and their agents.\n\nA paragraph ends the list:\n\nMore text.\n\n"
          "- a list after a paragraph without a colon\n\n## Heading\n\nWe collect:\n\n- your name\n")
    clauses = split_clauses(md)
    items = list_items(md, clauses)
    ids = {c.text: c.id for c in clauses}
    assert items == {
        ids["We may share your data with:"]: ("our partners. They sign contracts.", "advertisers;",
                                              "and their agents."),
        ids["We collect:"]: ("your name",),
    }


def test_a_list_written_inline_is_one_provision_quoted_whole() -> None:
    """Found in Tumblr's, xAI's and Spotify's terms: "NOT LIABLE FOR (A) ...; (B) LOSS OF: PROFITS...;
    (C) ..." was flagged on its first item's sentence, quoting none of the others, while an item that
    matched on its own was flagged a second time."""
    first = "TO THE EXTENT PERMITTED BY LAW, ACME IS NOT LIABLE FOR (A) ANY INDIRECT OR SPECIAL DAMAGES;"
    items = ("(B) ANY LOSS OF DATA OR PROFITS, HOWEVER CAUSED, ARISING FROM YOUR USE OF OR INABILITY TO "
             "USE THE SERVICE;", "(C) ANY DELAY CAUSED BY YOUR BANK.")
    md = (f"{first} {items[0]} {items[1]} Thank you.\n\n"
          "Acme may take these steps: (1) warn you; (2) suspend or close your account.\n")
    found = [(f.rule_id, f.quote, f.lead_in, f.items)
             for f in analyze_markdown(RULES, "terms-of-service", md)]
    assert [f for f in found if f[0] == "excludes-liability"] == [("excludes-liability", first, "", items)]
    # On its own, item (B) is a liability clause: only the provision's finding holds it.
    assert "excludes-liability" in [r.id for r in matching_rules(RULES, items[0])]
    # An item is read after the words that introduce the list, by the rules that ask for it.
    item = "(2) suspend or close your account."
    assert ("terminate-at-will", item, "Acme may take these steps:", ()) in found
    assert "terminate-at-will" not in [r.id for r in matching_rules(RULES, item)]


def test_a_list_of_what_the_company_may_do_is_read_through_its_colon() -> None:
    """Noticed in Apple-style terms: "X reserves the right to do any of the following, at any time:
    (1) to ... terminate ..." was not flagged, as a list (inline or in Markdown) or in one sentence:
    the reserved-right patterns stop at a colon, so that a lead-in's words do not join an item's."""
    lead = "Acme reserves the right to do any of the following, at any time, without notice:"
    md = (f"{lead} (1) to modify, suspend or terminate access to the app; (2) to change the app.\n\n"
          f"{lead}\n\n- to terminate your account;\n- to remove any posts you make.\n\n"
          "We may take any of the following steps: warn you by email.\n")
    found = [(f.rule_id, f.quote, f.lead_in) for f in analyze_markdown(RULES, "terms-of-service", md)]
    first = f"{lead} (1) to modify, suspend or terminate access to the app;"
    assert ("terminate-at-will", first, "") in found
    assert ("terminate-at-will", "to terminate your account;", lead) in found
    assert ("remove-user-content", "to remove any posts you make.", lead) in found
    assert not [f for f in found if f[1].endswith("warn you by email.")]  # no measure opens that item


def test_validate_names_rule_files_it_would_never_read_and_reports_everything_at_once(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    content = tmp_path / "content"
    rule = (content / "rules/arbitration/mandatory-arbitration.yaml").read_text()
    (content / "rules/arbitration/mandatory-arbitration.yml").write_text(rule.replace(
        "id: mandatory-arbitration", "id: mandatory-arbitration-copy"))
    (content / "rules/loose.yaml").write_text(rule)
    (content / "rules/arbitration/latin.yaml").write_bytes("id: latin\ntitle: Art. 3 §1\n".encode("latin-1"))
    (content / "services/openai.yaml").write_text("documents: [oops]\n")  # a broken service as well
    result = subprocess.run([sys.executable, "-m", "generator", "validate", "--content", str(content)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for expected in ("mandatory-arbitration.yml: never read: files here are rules/<category>/<rule-id>.yaml "
                     "(fix: rename it to mandatory-arbitration.yaml)",
                     "rules/loose.yaml: never read",
                     "latin.yaml: not UTF-8 text (fix: save the file as UTF-8)", "openai.yaml: "):
        assert expected in result.stderr


def test_a_milder_grade_follows_what_the_clause_states(tmp_path: Path) -> None:
    """A termination for a stated reason or after notice is graded medium; one at will stays high; a
    notice announcing the arbitration section is graded low, the section itself high."""
    analyzer = Analyzer(RULES)
    graded = {f.quote: (f.rule_id, f.severity) for sentence in (
        "We may suspend your account if you do not pay the fees you owe.",
        "We may close your account at any time, for any reason, without telling you.",
        "Please read these terms carefully: they include an arbitration agreement.",
        "Any dispute between you and us will be resolved by binding arbitration.",
    ) for f in analyzer.analyze("terms-of-service", sentence)}
    assert list(graded.values()) == [("terminate-at-will", "medium"), ("terminate-at-will", "high"),
                                     ("mandatory-arbitration", "low"), ("mandatory-arbitration", "high")]
    # A list's lead-in is graded with its items: the reasons are stated there.
    lead_in = ("We may suspend or terminate your account and your access to the services if:\n\n"
               "- you break these terms;\n- the law requires it.\n")
    assert [(f.rule_id, f.severity) for f in analyzer.analyze("terms-of-service", lead_in)] == [
        ("terminate-at-will", "medium")]
    # An example of the milder grade graded otherwise fails `rules test`, naming it.
    wrong = "      - We may close your account at our sole discretion if you break these terms.\n"
    result = rules_test_with(tmp_path, "unilateral-termination/terminate-at-will.yaml", "    milder:\n",
                             "    milder:\n" + wrong)
    assert result.returncode == 1
    assert ("terminate-at-will.yaml: milder.examples.milder: is graded high: 'We may close your account at "
            "our sole discretion if you break these terms.'") in result.stderr
    examples, _ = totals("unilateral-termination/terminate-at-will.yaml", BYSTANDER)
    assert result.stdout.startswith(f"{examples} passed, 1 failed")


def test_a_clause_re_graded_between_versions_is_a_change_of_its_flags() -> None:
    """The list a lead-in introduces changed from stated reasons to "for any reason": the same clause,
    now graded high, is one flag removed (medium) and one added (high), not no change (found by review)."""
    from generator.findingchanges import compare_findings

    analyzer = Analyzer(RULES)
    lead_in = "We may suspend or terminate your account and your access to the services:\n\n"
    reasons = "- if you fail to pay the fees you owe;\n- if the law requires it.\n"
    before = analyzer.analyze("terms-of-service", lead_in + reasons)
    after = analyzer.analyze("terms-of-service", lead_in + "- for any reason;\n- at any time.\n")
    assert [(f.clause_id, f.severity) for f in before] == [(after[0].clause_id, "medium")]
    assert [f.severity for f in after] == ["high"]
    added, removed, reworded = compare_findings(before, after)
    assert not reworded  # re-graded: another severity is another flag, however alike the words
    assert ([f.severity for f in added], [f.severity for f in removed]) == (["high"], ["medium"])
    assert {f.key for f in before} != {f.key for f in after}


def test_a_milder_regex_that_backtracks_without_end_is_named(tmp_path: Path) -> None:
    """It was blamed on the patterns (found by review)."""
    result = rules_test_with(tmp_path, "unilateral-termination/terminate-at-will.yaml", "  unless:\n",
                             "  unless:\n    - '^(\\w+\\s?)+$'\n")
    assert result.returncode == 1
    assert "terminate-at-will.yaml: milder.unless[0]: takes over 2 s on the rule's examples" in result.stderr


def test_a_section_or_list_for_businesses_only_is_not_flagged() -> None:
    """Found by a reader's review: Google's indemnity and €500 cap sit under "For business users and
    organisations only" and were shown to consumers as theirs."""
    indemnity = "You will indemnify Acme against any claims arising from your use of the service."
    text = (f"## For business users and organisations only\n\n{indemnity}\n\n"
            f"## For all users\n\nIf you are a business user or organisation:\n\n- {indemnity}\n\n"
            f"Everyone else:\n\n- {indemnity}\n\n## Your obligations\n\n{indemnity}\n")
    found = analyze_markdown(RULES, "terms-of-service", text)
    lines = [text.count("\n", 0, f.start) for f in found if f.rule_id == "user-indemnifies-company"]
    assert lines == [12, 16]  # the list for everyone else, and the last section
    # a lead-in that names anyone besides businesses is everyone's (found by review)
    mixed = f"If you are an organisation or an individual user of Acme, you agree that:\n\n- {indemnity}\n"
    everyone = {f.rule_id for f in analyze_markdown(RULES, "terms-of-service", mixed)}
    assert "user-indemnifies-company" in everyone


def test_items_a_flagged_lead_in_quotes_are_not_flagged_again() -> None:
    """Found by a reader's review: ChatGPT's "When transferring Personal Data outside of the EEA ...
    we rely on:" was quoted with its two items, and each item was flagged again on its own (three
    findings for one provision)."""
    md = ("When we transfer your personal data outside the EEA, we rely on these safeguards:\n\n"
          "- adequacy decisions for transfers to the United States;\n"
          "- standard contractual clauses for transfers to other countries.\n\n"
          "We may also store your data on servers in the United States.\n")
    found = [(f.rule_id, f.quote, f.items) for f in analyze_markdown(RULES, "privacy-policy", md)
             if f.rule_id == "data-transferred-abroad"]
    assert [quote for _, quote, _ in found] == [
        "When we transfer your personal data outside the EEA, we rely on these safeguards:",
        "We may also store your data on servers in the United States."]
    assert len(found[0][2]) == 2  # the lead-in's finding quotes both items
    # on their own, the items are transfer clauses: only their lead-in's finding holds them
    alone = md.split("\n\n")[1]
    assert len([f for f in analyze_markdown(RULES, "privacy-policy", alone)
                if f.rule_id == "data-transferred-abroad"]) == 2


def test_validate_checks_the_examples_of_the_rules_that_load_beside_a_broken_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by review: one rule file with a syntax error hid every other rule's failing example
    (and its slow-regex check) until it was fixed: `validate` reports every problem at once."""
    from generator.cli import main

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "rules" / "arbitration" / "broken.yaml").write_text("id: [unclosed\n")
    rule = content / "rules" / "contract-by-using" / "acceptance-by-use.yaml"
    rule.write_text(rule.read_text().replace("  match:\n", "  match:\n    - We sell apples.\n", 1))
    assert main(["validate", "--content", str(content), "--archive", str(ROOT / "archive")]) == 1
    err = capsys.readouterr().err
    assert "broken.yaml" in err
    assert "acceptance-by-use.yaml: examples.match: no pattern matches: 'We sell apples.'" in err
