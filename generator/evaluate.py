"""Measure the rules on labelled sentences (CLAUDETTE / LexGLUE UNFAIR-ToS JSON Lines).

Scores follow LexGLUE's UNFAIR-ToS definition: one column per label of the file plus a
"no label" column that is 1 when a sentence has (or is predicted to have) no label; micro and
macro F1 are taken over all those columns, with F1 = 0 where a column has no positives at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analyze import matching_rules
from .model import Problem, ProblemsError, Rule
from .prefilter import RuleGates

NO_LABEL = "<none>"


@dataclass(frozen=True)
class Sentence:
    text: str
    labels: frozenset[str]
    lead_in: str = ""  # for an item of a list: the sentence ending with ":" that introduces it


# An item that does not end its list: the next line is an item of the same list.
_LIST_GOES_ON = re.compile(r"(?:[;,]|\b(?:and|or))\s*$")


def _lead_ins(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Each line's lead-in, from the lines before it in the same document (files list a document's
    sentences in order): a line after one ending with ":" is an item of its list, and so is a line
    after an item that ends with ";", "," or "and"/"or". Lines without a "doc" have none."""
    leads, lead = [], ""
    for i, row in enumerate(rows):
        before = rows[i - 1] if i else None
        if before is None or "doc" not in row or before.get("doc") != row["doc"]:
            lead = ""
        elif before["text"].rstrip().endswith(":"):
            lead = before["text"]
        elif not (lead and _LIST_GOES_ON.search(before["text"])):
            lead = ""
        leads.append(lead)
    return leads


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    sentences: int
    labels: dict[str, Score]
    micro_f1: float
    macro_f1: float
    predictions: tuple[frozenset[str], ...]

    def as_json(self) -> dict[str, object]:
        return {
            "sentences": self.sentences,
            "labels": {label: {"precision": s.precision, "recall": s.recall, "f1": s.f1,
                               "support": s.support} for label, s in self.labels.items()},
            "micro_f1": self.micro_f1,
            "macro_f1": self.macro_f1,
        }


def _fault(line: str) -> str | None:
    """What keeps a line from being a labelled sentence, in a reader's words; None when it is one."""
    if not line.strip():
        return "an empty line"
    try:
        row = json.loads(line)
    except ValueError as err:
        return f"not JSON ({getattr(err, 'msg', err)}, column {getattr(err, 'colno', '?')})"
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    missing = [key for key in ("text", "labels") if key not in row]
    if missing:
        return f"no {' and no '.join(repr(k) for k in missing)}"
    if not isinstance(row["text"], str):
        return "'text' is not a string"
    # (str() of a string of labels would score each of its letters as a label)
    if not isinstance(row["labels"], list) or not all(isinstance(label, str) for label in row["labels"]):
        return ("'labels' is not a list of label names (numbered labels, as LexGLUE's Hugging Face copy "
                "has them, name no label)")
    return None


def read_sentences(path: Path) -> list[Sentence]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        problem = Problem(str(path), "", f"cannot read: {err.strerror}", "check the path")
        raise ProblemsError([problem]) from err
    except UnicodeDecodeError as err:
        problem = Problem(str(path), "", f"not UTF-8 (byte {err.start})", "save the file as UTF-8 JSON lines")
        raise ProblemsError([problem]) from err
    while lines and not lines[-1].strip():  # blank lines at the end (an editor's), as jq reads them
        lines.pop()
    for number, line in enumerate(lines, 1):
        fault = _fault(line)
        if fault is not None:
            raise ProblemsError([Problem(str(path), f"line {number}", f"not a labelled sentence: {fault}",
                                         'each line holds one sentence: {"text": "...", "labels": ["..."]}, '
                                         "the labels named as in ../shared/clauses/*.jsonl")])
        row = json.loads(line)
        rows.append({**row, "labels": frozenset(row["labels"])})
    if not rows:
        raise ProblemsError([Problem(str(path), "", "no sentence in the file",
                                     "give a file of labelled sentences")])
    return [Sentence(row["text"], row["labels"], lead)
            for row, lead in zip(rows, _lead_ins(rows), strict=True)]


def predict(rules: Sequence[Rule] | RuleGates, mapping: dict[str, str], text: str,
            lead_in: str = "") -> frozenset[str]:
    """The file labels the rules give a sentence (categories without a mapped label are ignored)."""
    return frozenset(mapping[r.category] for r in matching_rules(rules, text, lead_in)
                     if r.category in mapping)


def _f1(tp: int, fp: int, fn: int) -> Score:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(round(precision, 4), round(recall, 4), round(f1, 4), tp + fn)


def score(gold: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]],
          labels: Iterable[str]) -> tuple[dict[str, Score], float, float]:
    columns = [*sorted(labels), NO_LABEL]
    counts = {c: [0, 0, 0] for c in columns}  # tp, fp, fn

    def with_none(row: frozenset[str]) -> frozenset[str]:
        kept = row & set(columns)
        return kept or frozenset({NO_LABEL})

    for g, p in zip(gold, predicted, strict=True):
        g, p = with_none(g), with_none(p)
        for c in columns:
            counts[c][0] += c in g and c in p
            counts[c][1] += c not in g and c in p
            counts[c][2] += c in g and c not in p
    per_column = {c: _f1(*counts[c]) for c in columns}
    tp, fp, fn = (sum(v[i] for v in counts.values()) for i in range(3))
    micro = _f1(tp, fp, fn).f1
    macro = round(sum(s.f1 for s in per_column.values()) / len(columns), 4)
    return {c: per_column[c] for c in columns if c != NO_LABEL}, micro, macro


def evaluate(rules: Sequence[Rule], mapping: dict[str, str], sentences: Sequence[Sentence]) -> Evaluation:
    labels = set().union(*(s.labels for s in sentences)) if sentences else set()
    gates = RuleGates(rules)  # the same findings, about three times faster
    predictions = tuple(predict(gates, mapping, s.text, s.lead_in) & labels for s in sentences)
    per_label, micro, macro = score([s.labels for s in sentences], predictions, labels)
    return Evaluation(len(sentences), per_label, micro, macro, predictions)


def format_table(result: Evaluation) -> str:
    lines = [f"{'label':<26} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for label, s in result.labels.items():
        lines.append(f"{label:<26} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>7.3f} {s.support:>8}")
    lines.append(f"{result.sentences} sentences; micro-F1 {result.micro_f1:.3f}, "
                 f"macro-F1 {result.macro_f1:.3f} (LexGLUE UNFAIR-ToS definition, with a no-label column)")
    return "\n".join(lines)


def unscored(categories: Iterable[str], mapping: dict[str, str], labels: Set[str]) -> list[str]:
    """What a score on a file leaves out, said under its table: categories that map to no label of
    the file's scheme, and mapped labels no sentence of this file carries (a rule of either kind can
    change without the score moving)."""
    unmapped = sorted(set(categories) - set(mapping))
    absent = sorted(f"{label} ({category})" for category, label in mapping.items() if label not in labels)
    notes = []
    if unmapped:
        notes.append(f"not scored, no label of this file's scheme maps to them "
                     f"(content/rules/label-mapping.yaml): {', '.join(unmapped)}; "
                     "`python bench/tosdr_recall.py` measures them against ToS;DR's cases")
    if absent:
        notes.append(f"not scored, no sentence of this file carries the label: {', '.join(absent)}")
    return notes


def write_predictions(path: Path, predictions: Sequence[frozenset[str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for idx, labels in enumerate(predictions):
            out.write(json.dumps({"idx": idx, "labels": sorted(labels)}) + "\n")
