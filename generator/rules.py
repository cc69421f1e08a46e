"""Load and check the ruleset: content/rules/<category>/<rule-id>.yaml, categories and the
label mapping used to measure the rules against labelled sentence files."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .lazyregex import LazyRegex
from .model import SEVERITIES, SLUG_RE, Milder, Pattern, Problem, ProblemsError, Rule, Statute, display_path
from .strayfiles import stray_files
from .yamlload import load_yaml, yaml_problem

RULES_DIR = "rules"
CATEGORIES_FILE = "categories.yaml"
LABELS_FILE = "label-mapping.yaml"
RULE_KEYS = ("id", "title", "category", "severity", "explanation", "statutes", "applies_to",
             "patterns", "unless", "lead_in", "examples", "milder")
EXAMPLE_KEYS = ("match", "no_match")
MILDER_KEYS = ("severity", "explanation", "when", "unless", "examples")
MILDER_EXAMPLE_KEYS = ("milder", "full")
MIN_EXAMPLES = 3
REGEX_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class Ruleset:
    categories: tuple[Category, ...]
    rules: tuple[Rule, ...]
    label_mapping: dict[str, str]  # project category → label of the labelled sentence files

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)


class _Check:
    def __init__(self, file: str, lazy: bool = False) -> None:
        self.file = file
        self.lazy = lazy  # regexes not compiled (nor checked) now, but when first used
        self.problems: list[Problem] = []

    def add(self, key: str, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, key, message, fix))

    def unknown_keys(self, mapping: dict[Any, Any], allowed: tuple[str, ...], where: str = "") -> None:
        for name in mapping:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                self.add(f"{where}.{name}" if where else str(name), "unknown key",
                         f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}")

    def regex(self, value: Any, key: str) -> LazyRegex | None:
        if not isinstance(value, str) or not value:
            self.add(key, "must be a non-empty regular expression string", "quote it: '\\bword\\b'")
            return None
        if control := next((c for c in value if ord(c) < 32 or ord(c) == 127), None):
            # "\bword\b" in double quotes: YAML makes \b a backspace, and the regex can never match
            written = "".join(_ESCAPES.get(c, c) for c in value)
            self.add(key, f"holds the control character {control!r}, which YAML made of a backslash escape "
                     "in double quotes", f"write the regex in single quotes: '{written}'")
            return None
        regex = LazyRegex(value, REGEX_FLAGS)
        try:
            if not self.lazy:
                regex.compiled  # noqa: B018 (compiling is the check)
        except re.error as err:
            self.add(key, f"invalid regular expression: {err}", "fix the expression (Python re syntax)")
            return None
        return regex

    def text(self, data: dict[str, Any], name: str) -> str:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            self.add(name, f"must be text, not {_kind(value)}", f"write '{name}: <text>' on one line, "
                     "or as a YAML block ('>' then the text indented below)")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add(name, "missing or empty", f"add '{name}: <text>'")
            return ""
        return " ".join(value.split())


# The control characters YAML makes of escapes in double quotes, as the regex was meant to read
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "\v": "\\v",
            "\a": "\\a", "\x1b": "\\e", "\0": "\\0"}
STATUTE_KEYS = ("name", "article", "url")
# Where a statute is linked: its official publisher, whose text is the law as in force (a mirror
# can lag or annotate it). A law published elsewhere needs its publisher's host added here.
OFFICIAL_LAW_HOSTS = ("eur-lex.europa.eu", "uscode.house.gov", "www.ecfr.gov", "leginfo.legislature.ca.gov",
                      "www.ilga.gov", "statutes.capitol.texas.gov", "www.legislation.gov.uk")


def _kind(value: object) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _patterns(check: _Check, value: Any) -> tuple[Pattern, ...]:
    if not isinstance(value, list) or not value:
        check.add("patterns", "must be a non-empty list",
                  "add '- all: [regex, ...]' items (a plain string is one regex)")
        return ()
    patterns = []
    for i, item in enumerate(value):
        key = f"patterns[{i}]"
        if isinstance(item, str):
            item = {"all": [item]}
        if not isinstance(item, dict) or not isinstance(item.get("all"), list) or not item["all"]:
            check.add(key, "must be a regex string or a mapping with a non-empty 'all' list",
                      "write '- all: [regex, regex]' and optionally 'within: N'")
            continue
        for name in item:
            if name not in ("all", "within"):
                check.add(f"{key}.{name}", "unknown key", "use 'all' and 'within'")
        within = item.get("within")
        if within is not None and (not isinstance(within, int) or within < 1 or isinstance(within, bool)):
            check.add(f"{key}.within", "must be a positive whole number of words", "e.g. 'within: 12'")
            within = None
        regexes = [check.regex(r, f"{key}.all[{j}]") for j, r in enumerate(item["all"])]
        if all(r is not None for r in regexes):
            patterns.append(Pattern(tuple(r for r in regexes if r is not None), within))
    return tuple(patterns)


def _statutes(check: _Check, value: Any) -> tuple[Statute, ...]:
    if not isinstance(value, list) or not value:
        check.add("statutes", "must list at least one statute",
                  "add '- {name: ..., article: ..., url: https://...}'")
        return ()
    statutes = []
    for i, item in enumerate(value):
        key = f"statutes[{i}]"
        if not isinstance(item, dict):
            check.add(key, "must be a mapping", "write {name: ..., article: ..., url: ...}")
            continue
        for name in item:
            if name not in STATUTE_KEYS:
                near = difflib.get_close_matches(str(name), STATUTE_KEYS, n=1)
                check.add(f"{key}.{name}", "unknown key",
                          f"did you mean {near[0]!r}?" if near else f"use only {', '.join(STATUTE_KEYS)}")
        fields = {name: item.get(name) for name in STATUTE_KEYS}
        bad = [name for name, v in fields.items() if not isinstance(v, str) or not v.strip()]
        for name in bad:
            value = fields[name]
            if value is not None and not isinstance(value, str):
                check.add(f"{key}.{name}", f"must be text, not {_kind(value)}", f"write one '{name}:' value")
            else:
                check.add(f"{key}.{name}", "missing or empty", f"add '{name}:' to the statute")
        url = fields["url"]
        if "url" not in bad and not str(url).startswith("https://"):
            check.add(f"{key}.url", f"not an https URL: {url!r}", "link the official text over https")
        elif "url" not in bad and urlsplit(str(url)).hostname not in OFFICIAL_LAW_HOSTS:
            check.add(f"{key}.url", f"{urlsplit(str(url)).hostname} is not an official publisher of law",
                      f"link the official text ({', '.join(OFFICIAL_LAW_HOSTS)}); for a law published "
                      "elsewhere, add its publisher's host to OFFICIAL_LAW_HOSTS in generator/rules.py")
        if not bad:
            statutes.append(Statute(str(fields["name"]), str(fields["article"]), str(url)))
    return tuple(statutes)


def _examples(check: _Check, value: Any, where: str = "examples",
              names: tuple[str, str] = EXAMPLE_KEYS) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(value, dict):
        found = "missing" if value is None else f"must be a mapping with '{names[0]}' and '{names[1]}' lists"
        check.add(where, found, f"add '{where.rsplit('.', 1)[-1]}: {{{names[0]}: [...], {names[1]}: [...]}}'")
        return (), ()
    # A misspelt list ('nomatch:') would otherwise only show as the right one missing.
    check.unknown_keys(value, names, where)
    out: list[tuple[str, ...]] = []
    for name in names:
        items = value.get(name)
        # A sentence with ": " in it, unquoted, is read by YAML as a mapping: say so.
        listed = items if isinstance(items, list) else []
        odd = [i for i, s in enumerate(listed) if not (isinstance(s, str) and s.strip())]
        for i in odd:
            item = listed[i]
            found = f"{type(item).__name__} {item!r}"
            fix = ("write it as a quoted string (YAML reads an unquoted ': ' as a key and its value)"
                   if isinstance(item, dict) else "write a sentence, in quotes if it has ': ' or starts "
                   "with a YAML sign such as '[' or '{'" if not isinstance(item, str) else
                   "write a sentence, or delete the empty item")
            check.add(f"{where}.{name}[{i}]", f"is not a sentence but {found}", fix)
        distinct = {" ".join(s.split()) for s in listed if isinstance(s, str)}
        if not isinstance(items, list) or len(distinct) < MIN_EXAMPLES:
            check.add(f"{where}.{name}", f"needs at least {MIN_EXAMPLES} different example sentences",
                      _EXAMPLES_FIX[name])
            out.append(())
        elif odd:
            out.append(())
        else:
            out.append(tuple(" ".join(s.split()) for s in items))
    return out[0], out[1]


_EXAMPLES_FIX = {"match": "add sentences that must match", "no_match": "add sentences that must not match",
                 "milder": "add sentences the rule matches and grades milder",
                 "full": "add sentences the rule matches and keeps at its severity"}


def _milder(check: _Check, value: Any, severity: Any) -> Milder | None:
    """The optional lower grade: `milder: {severity, explanation, when: [regex], unless: [regex],
    examples: {milder: [...], full: [...]}}`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        check.add("milder", "must be a mapping", "write 'milder: {severity: medium, when: [regex], "
                  "examples: {milder: [...], full: [...]}}'")
        return None
    check.unknown_keys(value, MILDER_KEYS, "milder")
    grade = value.get("severity")
    known = grade in SEVERITIES and severity in SEVERITIES
    if grade not in SEVERITIES or (known and SEVERITIES.index(grade) <= SEVERITIES.index(severity)):
        check.add("milder.severity", f"{grade!r} is not a severity below the rule's {severity!r}",
                  "pick a lower one of high, medium, low")
    regexes: dict[str, tuple[LazyRegex, ...]] = {}
    for name in ("when", "unless"):
        raw = value.get(name) or []
        if not isinstance(raw, list) or (name == "when" and not raw):
            check.add(f"milder.{name}", "must be a list of regular expressions" + (" (at least one)"
                      if name == "when" else ""), "write '- regex'")
            raw = []
        found = (check.regex(x, f"milder.{name}[{i}]") for i, x in enumerate(raw))
        regexes[name] = tuple(r for r in found if r)
    explanation = value.get("explanation")
    if not isinstance(explanation, str) or not explanation.strip():
        check.add("milder.explanation", "missing or empty",
                  "add 'explanation: <when the lower grade applies, for readers>'")
        explanation = ""
    milder, full = _examples(check, value.get("examples"), "milder.examples", MILDER_EXAMPLE_KEYS)
    if grade not in SEVERITIES:
        return None
    return Milder(SEVERITIES[SEVERITIES.index(grade)], " ".join(explanation.split()), regexes["when"],
                  regexes["unless"], milder, full)


def parse_rule(data: Any, path: Path, categories: set[str] | None, doc_types: set[str] | None,
               lazy: bool = False) -> tuple[Rule | None, list[Problem]]:
    file = display_path(path)
    check = _Check(file, lazy)
    if not isinstance(data, dict):
        check.add("", "must be a mapping", "see content/rules/*/*.yaml for examples")
        return None, check.problems
    check.unknown_keys(data, RULE_KEYS)
    rule_id, category = data.get("id"), data.get("category")
    if rule_id != path.stem:
        # YAML reads `id: 123` as a number: the fix must then quote it, or it reads as a number again
        fix = f"set 'id: {path.stem}'" if str(rule_id) != path.stem else f"quote it: id: \"{path.stem}\""
        check.add("id", f"{rule_id!r} does not match the file name", fix)
    elif not SLUG_RE.match(path.stem):
        check.add("id", "not a kebab-case slug", "rename the file to lower-case words joined by '-'")
    if category != path.parent.name:
        check.add("category", f"{category!r} does not match the folder {path.parent.name!r}",
                  "move the file to content/rules/<category>/ or fix 'category'")
    elif categories is not None and category not in categories:  # None: that file has problems of its own
        check.add("category", f"unknown category {category!r}",
                  f"add it to content/rules/{CATEGORIES_FILE}")
    severity = data.get("severity")
    if severity is None:  # not "None is not one of ...": the key is absent, or has no value
        check.add("severity", "missing" if "severity" not in data else "empty",
                  "set 'severity:' to the consumer impact: high, medium or low")
    elif severity not in SEVERITIES:
        check.add("severity", f"{severity!r} is not one of high, medium, low",
                  "pick the consumer impact: high, medium or low")
    applies_to = data.get("applies_to") or []
    if not isinstance(applies_to, list):
        check.add("applies_to", "must be a list of document types", "e.g. [terms-of-service]")
        applies_to = []
    for i, slug in enumerate(applies_to):
        if not isinstance(slug, str) or (doc_types is not None and slug not in doc_types):
            check.add(f"applies_to[{i}]", f"unknown document type {slug!r}",
                      "use a slug from content/document-types.yaml")
    title, explanation = check.text(data, "title"), check.text(data, "explanation")
    statutes = _statutes(check, data.get("statutes"))
    patterns = _patterns(check, data.get("patterns"))
    unless_raw = data.get("unless") or []
    if not isinstance(unless_raw, list):
        check.add("unless", "must be a list of regular expressions", "write '- regex'")
        unless_raw = []
    unless = tuple(r for r in (check.regex(u, f"unless[{i}]") for i, u in enumerate(unless_raw)) if r)
    lead_in = data.get("lead_in", False)
    if not isinstance(lead_in, bool):
        check.add("lead_in", f"{lead_in!r} is not true or false",
                  "write 'lead_in: true' (list items read after their lead-in) or remove the key")
    matches, no_matches = _examples(check, data.get("examples"))
    milder = _milder(check, data.get("milder"), severity)
    if check.problems:
        return None, check.problems
    return Rule(str(rule_id), title, str(category), SEVERITIES[SEVERITIES.index(severity)], explanation,
                statutes,
                tuple(applies_to), patterns, unless, matches, no_matches, file, bool(lead_in), milder), []


def rule_regexes(rules: Iterable[Rule]) -> list[LazyRegex]:
    """Every regex of the rules: their patterns', their exceptions' and their milder grades'."""
    return [regex for rule in rules
            for regexes in (*(p.all for p in rule.patterns), rule.unless,
                            *((rule.milder.when, rule.milder.unless) if rule.milder else ()))
            for regex in regexes]


def _load_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(display_path(path), "", "file not found", "create it"))
    except OSError as err:  # a folder in its place, a symlink loop, no permission: said for this file
        problems.append(Problem(display_path(path), "", f"cannot read: {err.strerror}",
                                "make it a readable YAML file, or remove it"))
    except UnicodeDecodeError:
        problems.append(Problem(display_path(path), "", "not UTF-8 text", "save the file as UTF-8"))
    except yaml.YAMLError as err:
        problems.append(yaml_problem(display_path(path), err, "fix the YAML syntax"))
    return None


CATEGORY_KEYS = ("name", "description")


def load_ruleset(content_dir: Path, doc_types: set[str] | None = None, lazy: bool = False) -> Ruleset:
    """Load every rule, or raise ProblemsError naming each problem (file, key, fix). `lazy`: the
    regexes are compiled when first used, so a broken one is not reported here: for a caller that
    compiles them itself (a build, see pipeline.py and lazyregex.py)."""
    ruleset, problems = read_ruleset(content_dir, doc_types, lazy)
    if problems:
        raise ProblemsError(problems)
    return ruleset


def read_ruleset(content_dir: Path, doc_types: set[str] | None = None,
                 lazy: bool = False) -> tuple[Ruleset, list[Problem]]:
    """The rules that load, and the problems of those that do not (`validate` checks the examples
    of the first while it reports the second: one broken file must not hide another's failing
    example)."""
    root = content_dir / RULES_DIR
    problems: list[Problem] = []
    raw_categories = _load_yaml(root / CATEGORIES_FILE, problems)
    # A categories file that does not load has its own problem: no rule or label is then told its
    # category is unknown (one syntax error read as dozens of problems).
    categories_read = not problems
    raw_categories = raw_categories or {}
    categories = []
    if not isinstance(raw_categories, dict):
        shape = type(raw_categories).__name__
        problems.append(Problem(display_path(root / CATEGORIES_FILE), "",
                                f"must map category slugs to their names, not be a {shape}",
                                "write '<slug>: {name: ..., description: ...}' entries"))
    else:
        for slug, entry in raw_categories.items():
            entry = entry if isinstance(entry, dict) else {}
            if not SLUG_RE.match(str(slug)) or not entry.get("name") or not entry.get("description"):
                problems.append(Problem(display_path(root / CATEGORIES_FILE), str(slug),
                                        "needs a kebab-case slug, a 'name' and a 'description'",
                                        "write '<slug>: {name: ..., description: ...}'"))
            for key in entry:
                if key not in CATEGORY_KEYS:
                    near = difflib.get_close_matches(str(key), CATEGORY_KEYS, n=1)
                    problems.append(Problem(display_path(root / CATEGORIES_FILE), f"{slug}.{key}",
                                            "unknown key", f"did you mean {near[0]!r}?" if near else
                                            f"use only {', '.join(CATEGORY_KEYS)}"))
            if SLUG_RE.match(str(slug)) and entry.get("name"):
                categories.append(Category(str(slug), str(entry["name"]), str(entry.get("description", ""))))
    slugs = {c.slug for c in categories}
    mapping = _load_yaml(root / LABELS_FILE, problems) or {}
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        problems.append(Problem(display_path(root / LABELS_FILE), "", "must map categories to labels",
                                "write '<category>: <label>' lines"))
        mapping = {}
    for category in mapping if categories_read else ():
        if category not in slugs:
            problems.append(Problem(display_path(root / LABELS_FILE), str(category), "unknown category",
                                    f"use a category from {CATEGORIES_FILE}"))
    rules = []
    problems += stray_files(root, "*/*.yaml", {CATEGORIES_FILE, LABELS_FILE},
                            "rules/<category>/<rule-id>.yaml")
    for path in sorted(root.glob("*/*.yaml")):
        before = len(problems)
        data = _load_yaml(path, problems)
        if len(problems) > before:
            continue
        if data is None:  # empty or only comments: the rule would vanish without a word
            problems.append(Problem(display_path(path), "", "empty file, no rule in it",
                                    "write the rule's keys (see any other rule file), or delete the file"))
            continue
        # else the categories file's own problem says why
        known = slugs if categories_read and isinstance(raw_categories, dict) else None
        rule, found = parse_rule(data, path, known, doc_types, lazy)
        problems += found
        if rule:
            rules.append(rule)
    # The id is the file name, so a duplicate is the same name in two category folders: name the
    # other file, which is not beside this one.
    first: dict[str, str] = {}
    for rule in rules:
        if rule.id in first:
            problems.append(Problem(rule.file, "id",
                                    f"duplicate rule id {rule.id!r}, also the id of {first[rule.id]}",
                                    "rename one of the two, file name and 'id' alike, or delete the copy"))
        first.setdefault(rule.id, rule.file)
    return Ruleset(tuple(categories), tuple(rules), {str(k): str(v) for k, v in mapping.items()}), problems
