"""The GitHub workflows: schema, security audit, pins, and the capture job run for real.

The capture workflow's steps live in scripts/capture_job.sh; `test_capture_workflow_end_to_end`
runs them in the workflow's order (shard jobs, then the commit job) in temporary clones of a bare
"origin", against pages served on 127.0.0.1, and checks the commits that land on origin.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.archive import load_archive
from generator.checklog import read_checks
from generator.cli import main, make_parser
from generator.content import load_content
from generator.model import DocKey
from generator.shards import in_shard, parse_shard, shard_of
from generator.signing import generate_key_pair
from generator.verify import verify_archive

from .conftest import DEMO_KEY, ROOT
from .localserver import LocalServer, Reply
from .test_capture import STUB

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent

# Every action the workflows use, pinned to the commit of a release. Where each pin was checked
# (no network here but the package registries):
# - zizmor's online tests (the zizmor 1.32.0 sdist on PyPI, crates/zizmor/tests/integration/audit/):
#   they resolve tags with the GitHub API and record the answer;
# - public workflows, pin tables and pull requests read with the project's search tool: each SHA
#   below is named as that release by several unrelated repositories (for actions/cache, two pull
#   requests that checked it against the tags API).
# Each is a release that runs on Node.js 24 (for upload-pages-artifact, a composite action: the
# upload-artifact release it calls): GitHub-hosted runners dropped Node.js 20 on 2026-09-16.
# None: no offline source had one; the workflow holds a placeholder until the SHA is looked up.
PINS: dict[str, tuple[str | None, str, str]] = {
    "actions/checkout": ("8e8c483db84b4bee98b60c0593521ed34d9990e8", "v6.0.1",
                         "zizmor unpinned_uses.rs online fix test: checkout@v6.0.1 resolves to it"),
    "actions/setup-python": ("e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0",
                             "many public workflows and pin-checking tests name it as v6.0.0"),
    "actions/upload-artifact": ("b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0",
                                "many public workflows name it as v6.0.0 (its release: runs.using node24)"),
    "actions/download-artifact": ("37930b1c2abaa49bbe596cd826c3c89aef350131", "v7.0.0",
                                  "many public workflows name it as v7.0.0 (the first on node24)"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0",
                                      "public workflows name it as v5.0.0 (it calls upload-artifact v7)"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0",
                             "public workflows and pin tables name it as v5.0.0 (Node.js 24)"),
    # v5: Node.js 24; the cache service of releases before 4.2.0 was shut down in 2025 (actions/cache #1509).
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5",
                      "public workflows name it as v5.0.5; two pull requests checked it with the tags API"),
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)"
                  r"\s*(?:#\s*(?P<comment>.*))?$")


def tool(name: str, package: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is missing: install the `{package}` package (the project's test extra)")
    return str(path)


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


# Checks of the workflow files.


def test_workflows_match_the_github_schemas() -> None:
    assert {p.name for p in WORKFLOWS} == {"capture.yml", "site.yml", "pull-request.yml"}
    checker = tool("check-jsonschema", "check-jsonschema")
    for schema, files in (("vendor.github-workflows", [str(p) for p in WORKFLOWS]),
                          ("vendor.dependabot", [str(ROOT / ".github" / "dependabot.yml")])):
        result = subprocess.run([checker, "--builtin-schema", schema, *files], capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run([tool("zizmor", "zizmor"), "--offline", "--no-progress", str(ROOT / ".github")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout, result.stdout


def test_actions_are_pinned_to_checked_release_commits() -> None:
    used: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if match := USES.match(line):
                comment = (match["comment"] or "").split(" ")[0]
                used.setdefault(match["action"], set()).add((match["ref"], comment))
    assert set(used) == set(PINS)
    wrong = {a: refs for a, refs in used.items() if refs != {(PINS[a][0], PINS[a][1])}}
    assert {a: v for a, v in wrong.items() if PINS[a][0] is not None} == {}
    missing = sorted(a for a, (sha, _, _) in PINS.items() if sha is None)
    assert missing == [], f"actions still pinned to a placeholder, look up a release commit: {missing}"


def test_least_privilege_and_no_untrusted_expansion() -> None:
    for path in WORKFLOWS:
        workflow = load_workflow(path)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} must state its permissions"
            for step in job["steps"]:
                # Values of the event reach scripts through env:, never expanded into the script.
                assert "${{" not in step.get("run", ""), f"{path.name}: {name}: {step.get('name')}"
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    # No job keeps the token on disk, not even the one that pushes: only its push
                    # gets the token (scripts/commit_capture.py), never the project's code.
                    assert step["with"]["persist-credentials"] is False, f"{path.name}: {name}"
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    assert text.count("secrets.") == 1  # the signing key, in one place
    capture = load_workflow(ROOT / ".github" / "workflows" / "capture.yml")
    steps = [s for job in capture["jobs"].values() for s in job["steps"]
             if "CLAUSEWATCH_SECRET_KEY" in s.get("env", {})]
    assert [s["name"] for s in steps] == ["Capture"] and "clausewatch capture" not in steps[0]["run"]
    assert capture["on"]["schedule"][0]["cron"].split()[0] not in ("0", "30")
    assert capture["concurrency"] == {"group": "capture", "cancel-in-progress": False}
    assert capture["jobs"]["commit"]["permissions"] == {"contents": "write"}
    # Every job works on the tip the plan job found when the run started, not on the commit that
    # triggered a run that may have waited in the queue.
    plan_checkout = capture["jobs"]["plan"]["steps"][0]
    assert plan_checkout["with"]["ref"] == "${{ github.ref }}"
    for name in ("capture", "commit"):
        assert capture["jobs"][name]["steps"][0]["with"]["ref"] == "${{ needs.plan.outputs.commit }}"
    push = next(s for s in capture["jobs"]["commit"]["steps"] if s.get("id") == "commit")
    assert push["env"]["CAPTURE_PUSH_TOKEN"] == "${{ github.token }}"
    assert capture["jobs"]["keepalive"]["if"] == "${{ always() }}"
    assert "actions/workflows/capture.yml/enable" in capture["jobs"]["keepalive"]["steps"][0]["run"]
    site = load_workflow(ROOT / ".github" / "workflows" / "site.yml")
    assert site["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert site["jobs"]["build"]["permissions"] == {"contents": "read"}
    pull = load_workflow(ROOT / ".github" / "workflows" / "pull-request.yml")
    assert list(pull["on"]) == ["pull_request"]


def test_pull_requests_run_every_test_that_needs_nothing_outside_the_repository() -> None:
    # GitHub has no ../shared/: the PR job deselects the tests marked as reading it (conftest.py
    # marks every test using its corpus or clauses_dir fixture), and no test reaches it otherwise.
    pull = load_workflow(ROOT / ".github" / "workflows" / "pull-request.yml")
    runs = [step.get("run", "") for step in pull["jobs"]["checks"]["steps"]]
    assert 'bash .ci/run -m "not needs_shared"' in runs
    # Found by review: .ci/run installs Debian's `chromium`, which Ubuntu runners do not have.
    assert pull["jobs"]["checks"]["container"]["image"].startswith("debian:")
    assert any('git diff --name-only "origin/$BASE_REF...HEAD" -- archive/' in run for run in runs)
    ways_out = ['"' + 'shared"', "ROOT" + ".parent"]  # spelt apart: this file would hold them
    for test_file in sorted((ROOT / "tests").glob("*.py")):
        if test_file.name != "conftest.py":
            source = test_file.read_text(encoding="utf-8")
            assert not any(way in source for way in ways_out), \
                f"{test_file.name}: read ../shared/ through the corpus or clauses_dir fixture"


# Sharding.


def test_shards_split_the_documents_deterministically() -> None:
    keys = [DocKey(f"service-{i}", t) for i in range(40) for t in ("terms-of-service", "privacy-policy")]
    for count in (1, 2, 3, 7):
        shards = [shard_of(k, count) for k in keys]
        assert set(shards) <= set(range(1, count + 1))
        assert shards == [shard_of(k, count) for k in keys]
    assert {shard_of(k, 1) for k in keys} == {1}
    # The hash must never change between versions of clausewatch: pinned values.
    assert [shard_of(DocKey("acme", t), 2) for t in ("terms-of-service", "privacy-policy", "cookie-policy")] \
        == [1, 2, 1]
    assert shard_of(DocKey("claude-ai", "terms-of-service"), 7) == 2
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_capture_shard_option(capsys: pytest.CaptureFixture[str]) -> None:
    content = load_content(ROOT / "content")
    declarations = [d for s in content.services for d in s.documents]
    parts = [in_shard(declarations, (i, 3)) for i in (1, 2, 3)]
    assert sorted(str(d.key) for p in parts for d in p) == sorted(str(d.key) for d in declarations)
    assert all(parts)
    for bad in ("0/2", "3/2", "two"):
        with pytest.raises(SystemExit) as exit_info:
            main(["capture", "--shard", bad])
        assert exit_info.value.code == 2
        assert "--shard" in capsys.readouterr().err


def test_capture_job_plan() -> None:
    def plan(count: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "scripts/capture_job.sh", "plan", count], cwd=ROOT,
                              capture_output=True, text=True, check=False)

    assert json.loads(plan("1").stdout) == [1] and json.loads(plan("4").stdout) == [1, 2, 3, 4]
    for bad in ("0", "65", "x", "", "1;true"):
        assert plan(bad).returncode == 1


# The capture job, run for real.


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture
def job_env(tmp_path: Path) -> dict[str, str]:
    """What a runner gives the job's steps: clausewatch on PATH, the key, a job summary file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CLAUSEWATCH_", "GITHUB_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", CLAUSEWATCH_SECRET_KEY=DEMO_KEY.read_text(),
               GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return env


HUMAN = ["-c", "user.name=A Maintainer", "-c", "user.email=maintainer@example.org"]


@pytest.fixture
def origin(tmp_path: Path, job_env: dict[str, str], server: LocalServer) -> Path:
    """A bare origin whose main holds the scripts and a content/ pointing at the local server."""
    seed = tmp_path / "seed"
    (seed / "scripts").mkdir(parents=True)
    for name in ("capture_job.sh", "commit_capture.py"):
        shutil.copy(ROOT / "scripts" / name, seed / "scripts" / name)
    (seed / "content" / "services").mkdir(parents=True)
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copy(ROOT / "content" / name, seed / "content" / name)
    lines = ["name: Acme", "documents:"]
    for doc_type in ("terms-of-service", "privacy-policy", "cookie-policy"):
        lines += [f"  {doc_type}:", f"    url: {server.url('/' + doc_type)}", "    select: ['main']"]
    (seed / "content" / "services" / "acme.yaml").write_text("\n".join(lines) + "\n")
    (seed / "README.md").write_text("seed\n")
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare), env=job_env)
    git(seed, "init", "-q", "-b", "main", env=job_env)
    git(seed, "add", "-A", env=job_env)
    git(seed, *HUMAN, "commit", "-q", "-m", "seed", env=job_env)
    git(seed, "remote", "add", "origin", str(bare), env=job_env)
    git(seed, "push", "-q", "origin", "main", env=job_env)
    return bare


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def clone(origin: Path, dest: Path, env: Mapping[str, str]) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(dest), env=env)
    return dest


def job(cwd: Path, env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run(["bash", "scripts/capture_job.sh", *args], cwd=cwd, env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def run_workflow(tmp_path: Path, origin: Path, env: Mapping[str, str], shards: int, name: str,
                 while_committing: Path | None = None) -> Path:
    """The capture workflow's jobs, each in a fresh clone as on a fresh runner; returns the commit clone."""
    count = json.loads(job(ROOT, env, "plan", str(shards)))
    outs = []
    for index in count:
        runner = clone(origin, tmp_path / f"{name}-shard-{index}", env)
        git(runner, "checkout", "-q", "--detach", env=env)  # as the workflow checks out the plan's commit
        outs.append(str(tmp_path / f"{name}-artifact-{index}"))
        job(runner, env, "shard", f"{index}/{shards}", outs[-1])
    committer = clone(origin, tmp_path / f"{name}-commit", env)
    git(committer, "checkout", "-q", "--detach", env=env)
    env = {**env, "CAPTURE_BRANCH": "main", "CAPTURE_PUSH_TOKEN": "a-token-only-github-would-read"}
    if while_committing is not None:  # someone pushes to main while the capture runs
        (while_committing / "README.md").write_text("edited meanwhile\n")
        git(while_committing, *HUMAN, "commit", "-q", "-am", "docs: edit", env=env)
        git(while_committing, "push", "-q", "origin", "main", env=env)
    job(committer, env, "commit", str(downloaded(outs, tmp_path / f"{name}-downloads")))
    return committer


def downloaded(outs: list[str], path: Path) -> Path:
    """The shards' folders as actions/download-artifact (v5 on) leaves them in its `path` when a
    pattern matches them: a lone artifact's files at the top, several in a folder each."""
    if len(outs) == 1:
        shutil.copytree(outs[0], path)
    else:
        for index, out in enumerate(outs, start=1):
            shutil.copytree(out, path / f"capture-shard-{index}")
    return path


def capture_commits(repo: Path, since: str) -> list[tuple[str, str, dict[str, list[str]], list[str]]]:
    """(hash, subject, trailers, files) of the commits after `since`, oldest first."""
    found = []
    for sha in git(repo, "rev-list", "--reverse", f"{since}..HEAD").split():
        subject, _, rest = git(repo, "show", "-s", "--format=%B", sha).partition("\n\n")
        trailers: dict[str, list[str]] = {}
        for line in rest.strip().split("\n\n")[-1].splitlines():
            key, _, value = line.partition(": ")
            trailers.setdefault(key, []).append(value)
        files = git(repo, "show", "--format=", "--name-only", sha).split()
        found.append((sha, subject.strip(), trailers, files))
    return found


def check_version_commit(repo: Path, sha: str, trailers: dict[str, list[str]], files: list[str]) -> str:
    document, version = trailers["Document"][0], trailers["Version"][0]
    text = git(repo, "show", f"{sha}:archive/{document}/versions/{version}.md").encode()
    metadata = json.loads(git(repo, "show", f"{sha}:archive/{document}/versions/{version}.json"))
    assert trailers["SHA-256"] == [hashlib.sha256(text).hexdigest()] == [metadata["sha256"]]
    assert trailers["Outcome"] == ["new-version"] and trailers["Kind"] == [metadata["kind"]]
    own = {f"archive/{document}/{folder}/{version}.{ext}" for folder, ext in (
        ("versions", "md"), ("versions", "md.minisig"), ("versions", "json"), ("versions", "json.minisig"),
        ("snapshots", "html"), ("snapshots", "html.minisig"))}
    own |= {f"archive/{document}/checks.jsonl", f"archive/{document}/checks.jsonl.minisig"}
    assert set(files) - {"archive/minisign.pub"} == own
    return f"archive/{document}/versions/{version}.md"


def verifies_at_every_commit(repo: Path, shas: list[str], tmp_path: Path) -> None:
    for sha in shas:
        tree = tmp_path / f"tree-{sha[:12]}"
        tree.mkdir()
        archive = subprocess.run(["git", "archive", sha, "archive"], cwd=repo, capture_output=True,
                                 check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        report = verify_archive(tree / "archive")
        assert report.ok, (sha, [str(p) for p in report.problems])


def test_capture_workflow_end_to_end(tmp_path: Path, origin: Path, server: LocalServer, corpus: Path,
                                     job_env: dict[str, str]) -> None:
    minisign = shutil.which("minisign")
    if minisign is None:
        pytest.fail("`minisign` is missing: apt-get install minisign (the reference verifier)")
    pages = {name: (corpus / path).read_bytes() for name, path in {
        "claude": "claude-ai/commercial-terms/snapshots/2025-08-01T00-32-07Z.html",
        "claude-new": "claude-ai/commercial-terms/snapshots/2026-03-12T07-00-47Z.html",
    }.items()}
    html = {"Content-Type": "text/html; charset=utf-8"}
    server.route("/terms-of-service", Reply(200, pages["claude"], html))
    server.route("/privacy-policy", Reply(200, pages["claude-new"], html))
    server.route("/cookie-policy", Reply(404, b"not found"))

    # Run 1, two shards, into an empty archive: one commit per first version, then the checks.
    seed = git(origin, "rev-parse", "main").strip()
    committer = run_workflow(tmp_path, origin, job_env, 2, "run1")
    assert git(origin, "rev-parse", "main") == git(committer, "rev-parse", "HEAD")
    commits = capture_commits(committer, seed)
    assert [c[1] for c in commits[:2]] == ["capture: new version of acme/privacy-policy",
                                           "capture: new version of acme/terms-of-service"]
    assert re.fullmatch(r"capture: checks \d{4}-\d\d-\d\d", commits[2][1]) and len(commits) == 3
    assert "archive/minisign.pub" in commits[0][3]  # the archive's key comes with its first version
    versions = [check_version_commit(committer, sha, t, files) for sha, _, t, files in commits[:2]]
    assert [c[2]["Kind"] for c in commits[:2]] == [["first"], ["first"]]
    assert commits[2][2] == {"Checked": ["1"], "Outcome": ["acme/cookie-policy http-error"]}
    assert commits[2][3] == ["archive/acme/cookie-policy/checks.jsonl",
                             "archive/acme/cookie-policy/checks.jsonl.minisig"]
    assert git(committer, "log", "-1", "--format=%an <%ae>", commits[0][0]).strip() == \
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    summary = Path(job_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "### Capture, shard 1/2" in summary and "### Capture, shard 2/2" in summary
    assert "acme/cookie-policy" in summary and "http-error" in summary

    # A shard job without the key, or with another key than the archive's, fails: no silent run.
    runner = clone(origin, tmp_path / "wrong-key", job_env)
    other_key = generate_key_pair(tmp_path / "other")[0].read_text()
    empty = "CLAUSEWATCH_SECRET_KEY is empty: set it as a secret of the 'capture' environment"
    for key, error in (("", empty), (other_key, "capture failed")):
        result = subprocess.run(["bash", "scripts/capture_job.sh", "shard", "1/1", str(tmp_path / "out")],
                                cwd=runner, env={**job_env, "CLAUSEWATCH_SECRET_KEY": key},
                                capture_output=True, text=True, check=False)
        assert result.returncode == 1 and error in result.stderr, result.stderr
    assert git(runner, "status", "--porcelain") == ""

    # Run 2, three shards (one of them empty), while a maintainer pushes to main: the capture
    # commits are rebased onto theirs. One document changed, one did not, one still fails.
    time.sleep(1.1)  # version ids have a one-second resolution
    server.route("/terms-of-service", Reply(200, pages["claude-new"], html))
    maintainer = clone(origin, tmp_path / "maintainer", job_env)
    before = git(origin, "rev-parse", "main").strip()
    committer = run_workflow(tmp_path, origin, job_env, 3, "run2", while_committing=maintainer)
    assert git(origin, "rev-parse", "main") == git(committer, "rev-parse", "HEAD")
    commits2 = capture_commits(committer, before)
    assert [c[1] for c in commits2][:2] == ["docs: edit", "capture: new version of acme/terms-of-service"]
    assert commits2[2][1].startswith("capture: checks ") and len(commits2) == 3
    versions.append(check_version_commit(committer, commits2[1][0], commits2[1][2], commits2[1][3]))
    assert commits2[1][2]["Kind"] == ["change"]
    assert sorted(commits2[2][2]["Outcome"]) == ["acme/cookie-policy http-error",
                                                 "acme/privacy-policy unchanged"]

    # What landed on origin verifies, with our verifier at every commit and with the stock tool.
    fresh = clone(origin, tmp_path / "fresh", job_env)
    verifies_at_every_commit(fresh, [c[0] for c in commits + commits2[1:]], tmp_path)
    assert main(["verify", "--archive", str(fresh / "archive")]) == 0
    for version in versions:
        result = subprocess.run([minisign, "-Vm", str(fresh / version), "-p",
                                 str(fresh / "archive/minisign.pub")], capture_output=True, text=True,
                                check=False)
        assert result.returncode == 0, result.stderr
    outcomes = [c.outcome for c in read_checks(fresh / "archive/acme/terms-of-service")]
    assert outcomes == ["new-version", "new-version"]
    assert git(fresh, "status", "--porcelain") == ""


def test_a_shard_whose_every_document_failed_is_red_but_its_checks_are_packed(
        tmp_path: Path, origin: Path, server: LocalServer, job_env: dict[str, str]) -> None:
    for doc_type in ("terms-of-service", "privacy-policy", "cookie-policy"):
        server.route(f"/{doc_type}", Reply(503, b"down"))
    runner = clone(origin, tmp_path / "runner", job_env)
    out = tmp_path / "out"
    result = subprocess.run(["bash", "scripts/capture_job.sh", "shard", "1/1", str(out)], cwd=runner,
                            env=job_env, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "every document of shard 1/1 failed" in result.stderr
    assert "::error title=Every capture failed::all 3 documents" in result.stdout
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert warnings == [f"::warning title=Capture failed::acme/{d}: http-error; see the table above"
                        for d in ("terms-of-service", "privacy-policy", "cookie-policy")], result.stdout
    packed = subprocess.run(["tar", "--list", "--file", str(out / "archive.tar")], capture_output=True,
                            text=True, check=True).stdout.split()
    documents = ("terms-of-service", "privacy-policy", "cookie-policy")
    logs = [f"archive/acme/{d}/checks.jsonl{suffix}" for d in documents for suffix in ("", ".minisig")]
    assert sorted(packed) == sorted([*logs, "archive/minisign.pub"])  # a new archive's key comes too
    # Found by review: the upload step then was skipped with the failed step, and the checks lost.
    steps = load_workflow(ROOT / ".github/workflows/capture.yml")["jobs"]["capture"]["steps"]
    after = steps[[s.get("name") for s in steps].index("Capture") + 1:]
    assert after and all(s.get("if") == "${{ !cancelled() }}" for s in after), after


def test_a_shard_where_the_archive_refused_a_write_is_red(tmp_path: Path, origin: Path, server: LocalServer,
                                                          corpus: Path, job_env: dict[str, str]) -> None:
    # Found by review: an archive-error (a damaged log, a full disk) was one more failed document,
    # and the run stayed green while every later run would meet it again.
    page = (corpus / "claude-ai/commercial-terms/snapshots/2025-08-01T00-32-07Z.html").read_bytes()
    for doc_type in ("terms-of-service", "privacy-policy", "cookie-policy"):
        server.route(f"/{doc_type}", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    runner = clone(origin, tmp_path / "runner", job_env)
    job(runner, job_env, "shard", "1/1", str(tmp_path / "out1"))
    log = runner / "archive/acme/privacy-policy/checks.jsonl"
    log.write_bytes(log.read_bytes()[:-20])  # cut short: the log no longer verifies
    result = subprocess.run(["bash", "scripts/capture_job.sh", "shard", "1/1", str(tmp_path / "out2")],
                            cwd=runner, env=job_env, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the archive refused a write for 1 document(s) of shard 1/1" in result.stderr
    assert "::error title=Archive refused a write::1 document(s) of shard 1/1" in result.stdout
    assert (tmp_path / "out2" / "archive.tar").is_file()  # the others' checks are packed all the same


def test_a_maintainer_records_a_held_change_through_the_workflow_input(
        tmp_path: Path, origin: Path, server: LocalServer, corpus: Path, job_env: dict[str, str]) -> None:
    # Found by review (an operator): the fix for a held change was `capture KEY --accept-change` by a
    # key holder, but the key lives only in CI, and the workflow had no way to say it.
    page = (corpus / "claude-ai/commercial-terms/snapshots/2025-08-01T00-32-07Z.html").read_bytes()
    for doc_type in ("terms-of-service", "privacy-policy", "cookie-policy"):
        server.route(f"/{doc_type}", Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    runner = clone(origin, tmp_path / "runner", job_env)
    job(runner, job_env, "shard", "1/1", str(tmp_path / "out1"))
    server.route("/terms-of-service", STUB)  # a few words where thousands were: held, not recorded
    held = runner / "archive/acme/terms-of-service"

    def outcomes() -> list[str]:
        return [c.outcome for c in read_checks(held)]

    time.sleep(1.1)
    job(runner, job_env, "shard", "1/1", str(tmp_path / "out2"))
    assert outcomes() == ["new-version", "extraction-failed"] and "held" in read_checks(held)[-1].reason
    for bad, said in (("acme/terms-of-service;true", "is not a document key"),
                      ("acme/no-such-document", "acme/no-such-document: no such declared document")):
        result = subprocess.run(["bash", "scripts/capture_job.sh", "shard", "1/1", str(tmp_path / "bad")],
                                cwd=runner, env={**job_env, "ACCEPT_CHANGE": bad}, capture_output=True,
                                text=True, check=False)
        assert result.returncode == 1 and said in result.stderr, result.stderr
    assert outcomes() == ["new-version", "extraction-failed"]
    time.sleep(1.1)
    # what the workflow's `accept_change` input sets; the other shards ignore a document not theirs
    accepted = {**job_env, "ACCEPT_CHANGE": " acme/terms-of-service  acme/privacy-policy "}
    job(runner, accepted, "shard", "1/1", str(tmp_path / "out3"))
    assert outcomes() == ["new-version", "extraction-failed", "new-version"]
    assert [c.outcome for c in read_checks(runner / "archive/acme/privacy-policy")][-1] == "unchanged"
    [doc] = [d for d in load_archive(runner / "archive").documents if str(d.key) == "acme/terms-of-service"]
    assert "Our terms now live at" in doc.latest.read_text()
    step = next(s for s in load_workflow(ROOT / ".github/workflows/capture.yml")["jobs"]["capture"]["steps"]
                if s.get("name") == "Capture")
    assert step["env"]["ACCEPT_CHANGE"] == "${{ inputs.accept_change }}"


def test_commit_refuses_a_tar_with_paths_outside_the_archive_however_long(
        tmp_path: Path, origin: Path, job_env: dict[str, str]) -> None:
    # With `grep -q` ending the pipe early, pipefail used to turn this check false for long lists.
    committer = clone(origin, tmp_path / "committer", job_env)
    shard = tmp_path / "shard"
    (shard / "scripts").mkdir(parents=True)
    (shard / "scripts" / "commit_capture.py").write_text("print('replaced')\n")
    for i in range(3000):
        (shard / f"f{i}").write_text("x")
    names = ["scripts/commit_capture.py", *(f"f{i}" for i in range(3000))]
    subprocess.run(["tar", "--create", "--file", str(shard / "archive.tar"), *names], cwd=shard, check=True)
    (shard / "deleted").write_bytes(b"")
    result = subprocess.run(["bash", "scripts/capture_job.sh", "commit", str(shard)], cwd=committer,
                            env=job_env, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "holds paths outside archive/" in result.stderr
    assert "replaced" not in (committer / "scripts" / "commit_capture.py").read_text()


@pytest.mark.parametrize("shards", [1, 2])
def test_commit_finds_the_shards_however_the_download_laid_them_out(
        shards: int, tmp_path: Path, origin: Path, job_env: dict[str, str]) -> None:
    # The workflow hands the commit step the download's path, not folders found in it.
    steps = load_workflow(ROOT / ".github" / "workflows" / "capture.yml")["jobs"]["commit"]["steps"]
    download = next(s for s in steps if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"] == {"pattern": "capture-shard-*", "path": "${{ runner.temp }}/shards"}
    assert any('capture_job.sh commit "$RUNNER_TEMP/shards"\n' in s.get("run", "") for s in steps)
    committer = clone(origin, tmp_path / "committer", job_env)
    outs = []
    for index in range(1, shards + 1):  # each shard's tar holds a path the commit must refuse
        out = tmp_path / f"out-{index}"
        out.mkdir()
        (out / "stray").write_text("x")
        subprocess.run(["tar", "--create", "--file", str(out / "archive.tar"), "stray"], cwd=out, check=True)
        (out / "deleted").write_bytes(b"")
        outs.append(str(out))
    folder = downloaded(outs, tmp_path / "downloads")
    result = subprocess.run(["bash", "scripts/capture_job.sh", "commit", str(folder)], cwd=committer,
                            env=job_env, capture_output=True, text=True, check=False)
    first = folder if shards == 1 else folder / "capture-shard-1"
    assert result.returncode == 1, result.stderr
    assert f"{first}/archive.tar: holds paths outside archive/" in result.stderr
    empty = tmp_path / "nothing-downloaded"
    empty.mkdir()
    result = subprocess.run(["bash", "scripts/capture_job.sh", "commit", str(empty)], cwd=committer,
                            env=job_env, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "no archive.tar, nor a folder in it with one" in result.stderr


def test_a_failed_push_says_why_and_the_token_goes_only_in_a_header(
        tmp_path: Path, job_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import commit_capture
    finally:
        sys.path.pop(0)
    monkeypatch.delenv("CAPTURE_PUSH_TOKEN", raising=False)
    assert commit_capture._auth() == []
    monkeypatch.setenv("CAPTURE_PUSH_TOKEN", "t0ken")
    header = commit_capture._auth()[1]
    assert header.startswith("http.https://github.com/.extraheader=AUTHORIZATION: basic ")
    assert "t0ken" not in header  # base64 of x-access-token:t0ken, as actions/checkout sends it
    repo = fake_repo(tmp_path, job_env, {"README.md": "x\n"})
    monkeypatch.chdir(repo)
    with pytest.raises(commit_capture.CommitError, match=r"failed 1 times; the last answer: .*nowhere"):
        commit_capture.push(str(tmp_path / "nowhere.git"), "main", attempts=1)


def test_capture_commits_that_cannot_be_rebased_are_kept_on_a_branch_of_their_own(
        tmp_path: Path, job_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by review: a conflict (a maintainer's commit to the same check log) aborted the push, and
    the run's versions and checks were left in its artifacts, kept three days."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import commit_capture
    finally:
        sys.path.pop(0)
    monkeypatch.delenv("CAPTURE_PUSH_TOKEN", raising=False)
    log = "archive/acme/terms-of-service/checks.jsonl"
    repo = fake_repo(tmp_path, job_env, {log: "first\n"})
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin), env=job_env)
    maintainer = tmp_path / "maintainer"
    git(tmp_path, "clone", "-q", str(origin), str(maintainer), env=job_env)
    (maintainer / log).write_text("first\nby hand\n")
    git(maintainer, *HUMAN, "commit", "-q", "-am", "a check by hand", env=job_env)
    git(maintainer, "push", "-q", "origin", "main", env=job_env)
    (repo / log).write_text("first\ncaptured\n")
    git(repo, *HUMAN, "commit", "-q", "-am", "capture: checks", env=job_env)
    captured = git(repo, "rev-parse", "HEAD").strip()
    monkeypatch.chdir(repo)
    for name, value in job_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(commit_capture.CommitError, match=r"(?s)cannot rebase .* kept on the branch "
                       r"capture-unmerged/\d{8}T\d{6}Z-\d+ of .*origin\.git: merge it by hand"):
        commit_capture.push(str(origin), "main", attempts=2)
    kept = git(origin, "for-each-ref", "--format=%(refname:short) %(objectname)",
               "refs/heads/capture-unmerged")
    assert kept.split()[1] == captured, kept
    assert git(repo, "status", "--porcelain") == ""  # the rebase was aborted, nothing left half-done
    # Pushes refused for another reason (a protected branch) keep them too, once the attempts run out.
    hook = origin / "hooks" / "pre-receive"
    hook.write_text('#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && exit 1; done\n'
                    'exit 0\n')
    hook.chmod(0o755)
    (repo / log).write_text("first\ncaptured\ncaptured again\n")
    git(repo, *HUMAN, "commit", "-q", "-am", "capture: checks again", env=job_env)
    again = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(commit_capture.CommitError, match=r"(?s)failed 1 times.*kept on the branch "):
        commit_capture.push(str(origin), "main", attempts=1)
    tips = git(origin, "for-each-ref", "--format=%(objectname)", "refs/heads/capture-unmerged").split()
    assert again in tips, tips


# commit_capture.py refuses what must never be committed.


def fake_repo(tmp_path: Path, env: Mapping[str, str], files: Mapping[str, str]) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "commit_capture.py", repo / "scripts")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "init", "-q", "-b", "main", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, *HUMAN, "commit", "-q", "-m", "start", env=env)
    return repo


def commit_capture(repo: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/commit_capture.py"], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)


DOC = "archive/acme/terms-of-service"
ENTRY = ('{"entry":{"checked_at":"2026-01-01T00:00:00Z","document":"acme/terms-of-service",'
         '"outcome":"unchanged"}}\n')


@pytest.mark.parametrize("damage", ["edited-version", "deleted-snapshot", "rewritten-log", "wrong-sha256"])
def test_commit_capture_refuses(damage: str, tmp_path: Path, job_env: dict[str, str]) -> None:
    repo = fake_repo(tmp_path, job_env, {f"{DOC}/versions/2026-01-01T00-00-00Z.md": "text\n",
                                         f"{DOC}/snapshots/2026-01-01T00-00-00Z.html": "<p>text</p>\n",
                                         f"{DOC}/checks.jsonl": ENTRY})
    if damage == "edited-version":
        (repo / DOC / "versions/2026-01-01T00-00-00Z.md").write_text("other text\n")
    elif damage == "deleted-snapshot":
        (repo / DOC / "snapshots/2026-01-01T00-00-00Z.html").unlink()
    elif damage == "rewritten-log":
        (repo / DOC / "checks.jsonl").write_text(ENTRY.replace("unchanged", "new-version") + ENTRY)
    else:
        (repo / DOC / "versions/2026-02-01T00-00-00Z.md").write_text("new text\n")
        (repo / DOC / "versions/2026-02-01T00-00-00Z.json").write_text(json.dumps(
            {"document": "acme/terms-of-service", "id": "2026-02-01T00-00-00Z", "sha256": "0" * 64}))
    head = git(repo, "rev-parse", "HEAD")
    result = commit_capture(repo, job_env)
    assert result.returncode == 1 and result.stderr.startswith("error: "), result.stderr
    assert {"edited-version": "immutable", "deleted-snapshot": "immutable", "rewritten-log": "append-only",
            "wrong-sha256": "differs from its metadata"}[damage] in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_commit_capture_leaves_out_what_a_cut_write_left_and_commits_the_rest(
        tmp_path: Path, job_env: dict[str, str]) -> None:
    # Found by review (an operator): a version's write cut short (a full disk) left a snapshot's
    # signature, and the whole run, every shard's versions and checks, was refused.
    repo = fake_repo(tmp_path, job_env, {f"{DOC}/checks.jsonl": ENTRY})
    (repo / DOC / "snapshots").mkdir()
    (repo / DOC / "snapshots/2026-02-01T00-00-00Z.html.minisig").write_text("untrusted comment: x\n")
    (repo / DOC / "versions").mkdir()
    (repo / DOC / "versions/2026-02-01T00-00-00Z.md").write_text("new text\n")
    (repo / DOC / "checks.jsonl").write_text(ENTRY + ENTRY.replace("01T", "02T"))
    head = git(repo, "rev-parse", "HEAD").strip()
    result = commit_capture(repo, job_env)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert [w.split("::")[2].split(":")[0] for w in warned] == [
        f"{DOC}/snapshots/2026-02-01T00-00-00Z.html.minisig", f"{DOC}/versions/2026-02-01T00-00-00Z.md"]
    assert git(repo, "log", "-1", "--format=%s").startswith("capture: checks ")
    assert git(repo, "show", "--format=", "--name-only", "HEAD").split() == [f"{DOC}/checks.jsonl"]
    assert git(repo, "rev-parse", "HEAD~1").strip() == head
    assert sorted(git(repo, "status", "--porcelain", "-uall").split()[1::2]) == [
        f"{DOC}/snapshots/2026-02-01T00-00-00Z.html.minisig", f"{DOC}/versions/2026-02-01T00-00-00Z.md"]


def test_commit_capture_with_nothing_to_commit(tmp_path: Path, job_env: dict[str, str]) -> None:
    repo = fake_repo(tmp_path, job_env, {f"{DOC}/checks.jsonl": ENTRY})
    result = commit_capture(repo, job_env)
    assert result.returncode == 0 and "nothing to commit" in result.stdout


def test_contributing_commands_parse() -> None:
    """Every `clausewatch ...` command CONTRIBUTING.md shows is one the CLI accepts."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "(CONTRIBUTING.md)" in (ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*clausewatch (.+)$", text, re.M) + re.findall(r"`clausewatch ([^`]+)`", text)
    assert len(commands) >= 15
    verbs = {verb for action in make_parser()._actions if isinstance(action, argparse._SubParsersAction)
             for verb in action.choices}
    for command in commands:
        args = shlex.split(command)
        assert args[0] in verbs, command
        if len(args) > 1:  # a whole command line, not a mention of a verb
            parsed = make_parser().parse_args(args)  # exits (fails the test) on an unknown option
            assert parsed.verb == args[0]
