"""Seeded random hostile input through every parser that captured pages, imported texts and
contributors' files meet. The only failure allowed is the one that says why (ExtractionError,
ProblemsError, a YAML error); a crash anywhere else is a bug. Each alphabet holds what earlier
fuzzing found breaking something: control characters and character references to them, pages of
nothing but a comment, an unclosed backtick after a bracket, autolinks inside links, a code
block's language, impossible dates, non-web charset labels."""

from __future__ import annotations

import copy
import datetime
import random
import re
from typing import Any

import lxml.html
import yaml

from generator.annotate import annotate
from generator.charset import decode
from generator.clauses import split_clauses
from generator.content import parse_service
from generator.diff import diff_texts
from generator.extract import ExtractionError, extract_page
from generator.markup import render_markdown
from generator.model import Problem, ProblemsError, SourcePage
from generator.normalize import canonical_markdown
from generator.rules import parse_rule
from generator.yamlload import load_yaml

from .conftest import ROOT

URL = "https://service.example/terms"
TEXT = ["We may close your account at any time. ", "You agree to binding arbitration. ", "word ", "é ",
        "中文", "𝔘", "\u00a0", "\u200b", "\ufeff", "\x0b", "\x0c", "\x00", "\x7f", "\ufffe", "&#0;", "&#11;",
        "&#12;", "&#xFFFE;", "&#x110000;", "&bogus;", "&amp;", "&lt;script&gt;", "<", ">", '"', "'", "`",
        "[", "]", "(", ")", "*", "_", "#", "|", "\\", "\n", "\t", "  "]
TAGS = ["p", "div", "span", "a", "ul", "ol", "li", "table", "tr", "td", "th", "h1", "h2", "pre", "code",
        "em", "b", "br", "hr", "img", "main", "nav", "script", "style", "noscript", "template", "svg",
        "math", "select", "button", "details", "summary", "blockquote", "sup", "del", "font", "base"]
ATTRIBUTES = ['href="javascript:alert(1)"', 'href="/x"', 'href="mailto:a@b"', 'src="x.png"', 'alt="a<b"',
              'style="display:none"', "hidden", 'aria-hidden="true"', 'colspan="99999"', 'onclick="x()"',
              'title="&#11;"', 'href="/cdn-cgi/l/email-protection#4142"', 'data-cfemail="07660c"',
              'href="/cdn-cgi/l/email-protection#070c"']
MARKDOWN = ["#", "## ", "- ", "* ", "1. ", "1) ", "> ", "|", "---", "===", "`", "```", "```js\n", "**", "_",
            "~~", "[", "]", "(", ")", "![", "](", "http://x.example/a?b=1&c=2", "javascript:alert(1)",
            "<script>alert(1)</script>", "<https://x.example/>", "<mailto:a@b.example>", "[x]: /ref\n",
            "[read <https://o.example/> now](/t)", "[Ctrl+`]", "1. ```1\n", "\n", "\n\n", "    ", "\t",
            "e.g. ", "Inc. ", "(a) ", "§ 3 ", "| a | b |\n|---|---|\n| c | d |\n", *TEXT]


def _html(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.45 and depth < 8:
            tag, attributes = rng.choice(TAGS), " ".join(rng.sample(ATTRIBUTES, rng.randint(0, 2)))
            closing = f"</{tag}>" if rng.random() < 0.85 else ""
            parts.append(f"<{tag} {attributes}>{_html(rng, depth + 1)}{closing}")
        else:
            parts.append("".join(rng.choice(TEXT) for _ in range(rng.randint(1, 6))))
    return "".join(parts)


def _markdown(rng: random.Random) -> str:
    return "".join(rng.choice(MARKDOWN) for _ in range(rng.randint(1, 60)))


def test_random_pages_extract_or_say_why() -> None:
    rng = random.Random(1)
    extracted = 0
    for case in range(400):
        page = _html(rng)
        if case % 3 == 0:
            page = f"<html><body><main>{page} {TEXT[0] * 5}</main></body></html>"
        elif case % 7 == 0:
            page = rng.choice(["<!-- only a comment -->", "<![CDATA[x]]>", "<?php x ?>", ""])
        try:
            markdown = extract_page(page, SourcePage(URL)).markdown
        except ExtractionError:
            continue
        extracted += 1
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", markdown), page
    assert extracted > 100  # the check was exercised, not only refusals


def test_random_markdown_renders_splits_diffs_and_annotates() -> None:
    rng = random.Random(2)
    previous = ""
    for _ in range(400):
        text = canonical_markdown(_markdown(rng))
        assert "<script" not in render_markdown(text, URL, 3)
        clauses = split_clauses(text)
        assert all(0 <= c.start <= c.end <= len(text) for c in clauses)
        diff_texts(previous, text)
        findings: dict[str, list[Any]] = {}
        root = lxml.html.fragment_fromstring(annotate(text, findings, URL, {}).html, create_parent="div")
        # Nothing written into a tag: attribute names as the renderer writes them, and the anchors
        # on our own elements only (not on a <code> whose language a marker fell into).
        assert all(re.fullmatch(r"[a-z-]+", name) for el in root.iter() for name in el.attrib), text
        assert all(el.tag in ("span", "mark") for el in root.xpath("//*[@id]")), text
        assert not root.xpath("//a//a"), text  # no link inside a link
        previous = text


def test_random_bodies_and_charset_labels_decode() -> None:
    rng = random.Random(3)
    labels = [None, "text/html", "text/html; charset=idna", "text/html; charset=utf-7",
              "text/html; charset=unicode_escape", "text/html; charset=undefined", "text/html; charset=",
              "text/html; charset=utf-16", "text/html; charset=bogus", "text/html; charset=shift_jis"]
    metas = [b"", b'<meta charset="idna">', b'<meta charset="rot13">', b'<meta charset="utf-16">',
             b'<meta http-equiv="Content-Type" content="text/html; charset=zlib">']
    for _ in range(400):
        body = rng.choice(metas) + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        assert isinstance(decode(body, rng.choice(labels)).text, str)


VALUES: list[Any] = [None, True, 0, -1, 10**30, 1.5, "", "x", "(", "(?P<", [], [None], [1], {}, {"a": 1},
                     {1: 2}, [{"all": None}], [{"all": ["("]}], [{"all": [1]}], [{"terms": 1}], "a" * 2000]


def _mutated(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        places: list[tuple[Any, Any]] = []
        stack = [data]
        while stack:
            node = stack.pop()
            keys: list[Any] = (list(node) if isinstance(node, dict)
                               else list(range(len(node))) if isinstance(node, list) else [])
            for key in keys:
                places.append((node, key))
                stack.append(node[key])
        if places:
            node, key = rng.choice(places)
            node[key] = copy.deepcopy(rng.choice(VALUES))
    return data


def test_random_rule_and_service_files_give_problems_not_tracebacks() -> None:
    rng = random.Random(4)
    rules = [(p, load_yaml(p.read_text(encoding="utf-8")))
             for p in sorted((ROOT / "content/rules").glob("*/*.yaml"))]
    services = [(p, load_yaml(p.read_text(encoding="utf-8")))
                for p in sorted((ROOT / "content/services").glob("*.yaml"))]
    categories, doc_types = {p.parent.name for p, _ in rules}, {"terms-of-service", "privacy-policy"}
    refused = 0
    for case in range(600):
        try:
            if case % 2:
                path, data = rng.choice(rules)
                _, problems = parse_rule(_mutated(data, rng), path, categories, doc_types)
            else:
                path, data = rng.choice(services)
                _, problems = parse_service(_mutated(data, rng), path.stem, str(path), doc_types)
        except ProblemsError as err:
            problems = list(err.problems)
        assert all(isinstance(p, Problem) and p.fix for p in problems)
        refused += bool(problems)
    assert refused > 300  # most mutations break the file, and each is named as a problem


def test_random_yaml_text_is_read_or_refused_as_yaml() -> None:
    rng = random.Random(5)
    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "content").rglob("*.yaml"))]
    edits = [":", "- ", "  ", "\n", '"', "'", "&a", "*a", "!!python/object:os.system", "{", "[", "#", "|",
             "\t", "%YAML 1.1", "---", "? ", "<<: *a", "\x00", "1e999", ".nan", "2024-13-45", "[" * 2000]
    read = refused = 0
    for _ in range(800):
        text = rng.choice(sources)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(edits) + text[at + rng.randint(0, 3):]
        try:
            value = load_yaml(text)
        except yaml.YAMLError:  # anything else escaping is the bug
            refused += 1
            continue
        read += 1
        assert _only_plain_data(value), text  # never an object a tag asked for (!!python/object)
    assert read > 100 and refused > 100


def _only_plain_data(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack += [*node.keys(), *node.values()]
        elif isinstance(node, list | set):
            stack += node
        elif not isinstance(node, str | int | float | bool | bytes | datetime.date | None):
            return False
    return True

