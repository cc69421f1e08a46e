"""Scoring follows LexGLUE's UNFAIR-ToS definition; the CLI prints exactly the documented JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.evaluate import read_sentences, score

from .conftest import ROOT


def test_score_with_the_no_label_column() -> None:
    gold = [frozenset({"a"}), frozenset(), frozenset({"b"}), frozenset()]
    pred = [frozenset({"a"}), frozenset({"a"}), frozenset(), frozenset()]
    labels, micro, macro = score(gold, pred, {"a", "b"})
    assert labels["a"].precision == 0.5 and labels["a"].recall == 1.0 and labels["a"].support == 1
    assert labels["b"].f1 == 0.0 and labels["b"].support == 1
    # none column: gold none = {1,3}, predicted none = {2,3} -> tp 1, fp 1, fn 1 -> f1 0.5
    assert macro == round((0.6667 + 0.0 + 0.5) / 3, 4)
    # micro over all columns: tp 2 (a@0, none@3), fp 2, fn 2
    assert micro == 0.5


def test_perfect_predictions_score_one() -> None:
    gold = [frozenset({"a", "b"}), frozenset()]
    labels, micro, macro = score(gold, gold, {"a", "b"})
    assert micro == macro == 1.0 and all(s.f1 == 1.0 for s in labels.values())


def test_the_table_says_which_rules_the_file_does_not_score(tmp_path: Path) -> None:
    """A contributor's rule of a category with no label here moved no figure, without a word said."""
    rows = [{"text": "All disputes go to binding arbitration.", "labels": ["arbitration"]},
            {"text": "We may change these terms at any time.", "labels": ["unilateral_change"]}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = subprocess.run([sys.executable, "-m", "generator", "rules", "eval", str(path)], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout
    assert "not scored, no label of this file's scheme maps to them" in table
    assert "ai-training" in table.split("not scored, no label")[1]  # a category with rules and no label
    absent = table.split("no sentence of this file carries the label: ")[1]
    assert "privacy_included (privacy-included)" in absent and "arbitration (arbitration)" not in absent
    command = [sys.executable, "-m", "generator", "rules", "eval", str(path), "--format", "json"]
    json_out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert set(json.loads(json_out)) == {"sentences", "labels", "micro_f1", "macro_f1"}  # the contract


@pytest.mark.parametrize("name", ["claudette-tos50.dev.jsonl", "claudette-multi50-en.dev.jsonl"])
def test_eval_cli_json_and_predictions(name: str, tmp_path: Path, clauses_dir: Path) -> None:
    path = clauses_dir / name
    out = tmp_path / "pred.jsonl"
    result = subprocess.run([sys.executable, "-m", "generator", "rules", "eval", str(path), "--format",
                             "json", "--predictions", str(out)], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"sentences", "labels", "micro_f1", "macro_f1"}
    lines = path.read_text().splitlines()
    assert data["sentences"] == len(lines)
    file_labels = {label for line in lines for label in json.loads(line)["labels"]}
    assert set(data["labels"]) == file_labels
    for stats in data["labels"].values():
        assert set(stats) == {"precision", "recall", "f1", "support"}
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["idx"] for p in predictions] == list(range(len(lines)))
    assert all(set(p["labels"]) <= file_labels for p in predictions)
    # Rescoring the written predictions independently gives the printed figures.
    gold = [frozenset(json.loads(line)["labels"]) for line in lines]
    _, micro, macro = score(gold, [frozenset(p["labels"]) for p in predictions], file_labels)
    assert (micro, macro) == (data["micro_f1"], data["macro_f1"])
    assert data["macro_f1"] > 0.5  # far above chance; the figures themselves are reported, not fixed


@pytest.mark.parametrize("how", ["capitals", "contractions", "numbered", "lead-in", "third-person",
                                 "agreement", "offering", "aside", "free-to", "company",
                                 "users", "synonyms"])
def test_eval_rewrite_reads_every_sentence_rewritten(how: str, tmp_path: Path) -> None:
    # Each rewrite keeps the meaning, and the rules read every one of these sentences as before
    # (e.g. in capitals, "THAT STATE" after "COURTS OF" is not a place name).
    rows = [("These Terms are governed by the laws of the State of New York.", ["choice_of_law"]),
            ("Disputes about an order are heard by the courts of that state.", []),
            ("Any dispute shall be resolved exclusively by the courts of Amsterdam.", ["jurisdiction"]),
            ("We may suspend your account at any time for any reason.", ["unilateral_termination"]),
            ("We will not be liable for any loss of data.", ["limitation_of_liability"]),
            ("You agree that Acme may change these Terms at any time.", ["unilateral_change"])]
    path = tmp_path / "sentences.jsonl"
    path.write_text("".join(json.dumps({"text": t, "labels": labels}) + "\n" for t, labels in rows))
    predicted = {}
    for flags in ([], ["--rewrite", how]):
        out = tmp_path / f"pred{len(flags)}.jsonl"
        result = subprocess.run([sys.executable, "-m", "generator", "rules", "eval", str(path), "--format",
                                 "json", "--predictions", str(out), *flags], cwd=ROOT, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr
        predicted[bool(flags)] = [json.loads(line)["labels"] for line in out.read_text().splitlines()]
    assert predicted[False] == [labels for _, labels in rows]
    assert predicted[True] == predicted[False]


def test_a_line_after_a_lead_in_is_read_as_an_item_of_its_list(tmp_path: Path) -> None:
    rows = [{"doc": "A", "text": "We are not liable for:", "labels": []},
            {"doc": "A", "text": "lost profits;", "labels": []},
            {"doc": "A", "text": "lost data, or", "labels": []},
            {"doc": "A", "text": "delays.", "labels": []},
            {"doc": "A", "text": "Other terms apply.", "labels": []},
            {"doc": "B", "text": "lost profits;", "labels": []},
            {"text": "We may close:", "labels": []}, {"text": "your account", "labels": []}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    leads = [s.lead_in for s in read_sentences(path)]
    lead = "We are not liable for:"
    # The list goes on after ";" and ", or", ends after "delays."; another document, or no "doc", has none.
    assert leads == ["", lead, lead, lead, "", "", "", ""]


def test_eval_warns_about_a_mapping_typo(tmp_path: Path, clauses_dir: Path) -> None:
    # "arbitraton" would score arbitration 0 in silence; a label the file lacks altogether is fine.
    shutil.copytree(ROOT / "content", tmp_path / "content")
    mapping = tmp_path / "content" / "rules" / "label-mapping.yaml"
    mapping.write_text(mapping.read_text().replace("arbitration: arbitration", "arbitration: arbitraton"))
    # A slice of tos50 that still has every label (scoring all 7,807 sentences twice takes half a minute).
    lines = (clauses_dir / "claudette-tos50.dev.jsonl").read_text(encoding="utf-8").splitlines()
    sample = lines[:300] + [line for line in lines[300:] if '"arbitration"' in line]
    tos50 = tmp_path / "tos50-sample.jsonl"
    tos50.write_text("\n".join(sample) + "\n", encoding="utf-8")
    assert {label for line in sample for label in json.loads(line)["labels"]} == {
        label for line in lines for label in json.loads(line)["labels"]}
    command = [sys.executable, "-m", "generator", "rules", "eval", str(tos50), "--format", "json"]
    typo = subprocess.run([*command, "--content", str(tmp_path / "content")], capture_output=True, text=True,
                          check=False)
    assert typo.returncode == 0 and "maps arbitration to 'arbitraton'" in typo.stderr
    assert "did you mean 'arbitration'?" in typo.stderr
    fine = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert fine.returncode == 0 and "warning" not in fine.stderr


@pytest.mark.parametrize(("content", "said"), [
    (b'{"text": "We may end it.", "labels": "arbitration"}\n', "line 1: not a labelled sentence"),
    (b'{"text": null, "labels": []}\n', "line 1: not a labelled sentence"),
    (b'\xff\xfe{"text": "x", "labels": []}\n', "not UTF-8"),
    (b"", "no sentence in the file"),
])
def test_eval_refuses_a_file_it_would_misread(content: bytes, said: str, tmp_path: Path) -> None:
    # A string of labels was scored letter by letter, null became the sentence "None", and an empty
    # file scored 0 without a word; a file that is not UTF-8 ended in a traceback.
    path = tmp_path / "sentences.jsonl"
    path.write_bytes(content)
    command = [sys.executable, "-m", "generator", "rules", "eval", str(path), "--format", "json"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and said in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_eval_refuses_to_write_its_predictions_over_its_input(tmp_path: Path) -> None:
    path = tmp_path / "sentences.jsonl"
    original = json.dumps({"text": "We may end your account at any time.", "labels": []}) + "\n"
    path.write_text(original)
    command = [sys.executable, "-m", "generator", "rules", "eval", str(path), "--predictions",
               str(tmp_path / "." / "sentences.jsonl")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "is the input file" in result.stderr
    assert path.read_text() == original


def test_eval_says_what_is_wrong_with_a_line_in_a_readers_words(tmp_path: Path) -> None:
    """Found by review: a blank line at the end was fatal (jq reads the file), and errors read
    "(list indices must be integers or slices, not str)" or "('text')"; numbered labels, as
    LexGLUE's Hugging Face copy has them, were refused without saying why; a label no rule maps to
    was scored 0 in silence; --predictions into a missing folder failed without a fix."""
    def run(text: str, *extra: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "s.jsonl"
        path.write_text(text)
        command = [sys.executable, "-m", "generator", "rules", "eval", str(path), "--format", "json", *extra]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)

    good = json.dumps({"text": "We may terminate your account at any time.", "labels": ["ter"]}) + "\n"
    ok = run(good + "\n\n")
    assert ok.returncode == 0 and json.loads(ok.stdout)["sentences"] == 1
    assert "no rule category maps to" in ok.stderr and "ter (1 sentence)" in ok.stderr
    numbered = "'labels' is not a list of label names (numbered labels"
    for line, said in (("[1, 2]", "a JSON list, not an object"), ('{"labels": []}', "no 'text'"),
                       ('{"text": "x", "labels": [3]}', numbered), ("{not json", "not JSON"),
                       ("", "an empty line")):
        failed = run(good + line + "\n" + good)
        assert failed.returncode == 1, failed.stderr
        assert f"line 2: not a labelled sentence: {said}" in failed.stderr, failed.stderr
        assert "Traceback" not in failed.stderr
    missing = run(good, "--predictions", str(tmp_path / "no-such-folder" / "p.jsonl"))
    assert missing.returncode == 1 and "--predictions: cannot write" in missing.stderr
    assert "(fix: name a file in a folder that exists" in missing.stderr
