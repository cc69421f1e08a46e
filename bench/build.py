"""Build speed on a synthetic archive: a clean full build, a no-op rebuild, and one new version.

    python bench/build.py --archive-dir DIR [--runs 3] [--profile FILE.prof] [--keep]
    python bench/build.py --documents 100 --versions 10 [--seed 1] [--runs 3]

DIR is the output of bench/synthetic_archive.py (corpus/, content/, archive/, key/); it is copied
to a temporary folder first and never changed. With --documents/--versions such a folder is
generated there instead. Every measured build is `clausewatch build` in its own subprocess
(`python -m generator build`), reaped with os.wait4 so that its peak RSS (the build and its
children, such as Pagefind) and CPU time are its own. Measured, `--runs` times each (medians):

- full: a clean build into an empty output folder with an empty build cache
  (CLAUSEWATCH_CACHE_DIR);
- noop: the same build again, nothing changed (the output folder and cache of the last full build);
- one new version: one edited version added to one synthetic document (metadata.yaml and
  versions/, a different document each run), dated a day after the newest capture of the archive
  (as a scheduled capture's version is), `import-ota` re-run (incremental; timed apart), then a
  build into the same output folder;
- rule edited: a pattern added to one rule file (a contributor's pull request; a different
  pattern each run, the file restored after), then a build into the same output folder.

When Hugo is installed (Debian package `hugo`), the same version texts are also rendered as plain
Markdown pages by a minimal Hugo site (one page per version, list pages per service and document,
no theme) for scale: `hugo_s` and `full_build_over_hugo`; null without Hugo. Prints JSON.
`full_build_stages_s`: the build's own timing of its stages (loading and verifying, analysis,
pages, search index with feeds and data), medians of the full builds.
Memory: `peak_rss_mb` is the largest single process (wait4's ru_maxrss: the build or one of its
children); `peak_tree_mb` the largest sum over the whole process tree at one moment (build,
forked workers, Pagefind), as proportional set size sampled from /proc ten times a second.
--profile writes a cProfile of one extra (unmeasured) full build.
The project's modules are compiled to bytecode first (`bytecode_compiled`), as an installed
package's are: a machine that sets PYTHONDONTWRITEBYTECODE would otherwise compile them in every
measured build.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import synthetic_archive

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # user + system, the process and its waited-for children
    peak_rss_mb: float  # of the largest single process (the build or one of its children)
    peak_tree_mb: float | None  # sum over the process tree at one moment (PSS), None without /proc
    stdout: str


def _process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except OSError:  # gone meanwhile
            pass
    return pids


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size: pages shared by forked workers are counted once in the sum."""
    total_kb = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total_kb += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total_kb / 1024


class TreeMemory(threading.Thread):
    """Samples the memory of a process and all its descendants (workers, Pagefind) 10 times a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.done = pid, 0.0, threading.Event()
        self.available = os.path.exists(f"/proc/{os.getpid()}/smaps_rollup")

    def run(self) -> None:
        while self.available and not self.done.wait(0.1):
            self.peak_mb = max(self.peak_mb, _pss_mb(_process_tree(self.pid)))


def run_measured(command: list[str], log: Path, cache: Path | None = None) -> Run:
    """Run command in a subprocess; wall time, CPU time and peak RSS of that process alone.
    `cache`: the build cache folder it uses (CLAUSEWATCH_CACHE_DIR)."""
    env = dict(os.environ, CLAUSEWATCH_CACHE_DIR=str(cache)) if cache else None
    # Earlier runs' output (hundreds of megabytes) is still being written back, and deleting it
    # makes the file system discard blocks: flushed here, neither lands in this run's time.
    os.sync()
    with open(log, "w+b") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        memory = TreeMemory(process.pid)
        memory.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        memory.done.set()
        memory.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{text[-4000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
               round(memory.peak_mb, 1) if memory.available else None, text)


def compile_project() -> bool:
    """Compile the project's modules to bytecode, as installing a package does. Python reads
    bytecode even where it may not write it (PYTHONDONTWRITEBYTECODE, set on some CI machines):
    without this, every measured build would compile the project's modules again, which is no cost
    of the build (0.4 s of a 3 s one-new-version build on a 2-core machine)."""
    return bool(compileall.compile_dir(ROOT / "generator", quiet=1))


def build_command(work: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "generator", "build", "--content", str(work / "content"),
            "--archive", str(work / "archive"), "--out", str(out)]


def pages_of(run: Run) -> int | None:
    found = re.search(r"^built .*?: (\d+) pages", run.stdout, re.M)
    return int(found.group(1)) if found else None


def files_written(run: Run) -> int | None:
    found = re.search(r"; (\d+) files written", run.stdout)
    return int(found.group(1)) if found else None


def stages_of(run: Run) -> dict[str, float]:
    """The build's own timing of its stages, from its last line ("... (analysis 13.1 s, ...)")."""
    found = re.search(r" s \((.*)\)$", run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "")
    return {m[1]: float(m[2]) for m in re.finditer(r"([a-z][a-z ,]*?) ([\d.]+) s", found[1])} if found else {}


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def _hugo_version(hugo: str) -> str:
    return subprocess.run([hugo, "version"], capture_output=True, text=True, check=False).stdout.strip()


def write_hugo_site(work: Path, site: Path) -> int:
    """A minimal Hugo site with one Markdown page per archived version; returns the page count."""
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "config.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "bench"\ndisableKinds = ["taxonomy", "term"]\n')
    head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
    (site / "layouts" / "_default" / "single.html").write_text(
        head + "<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n")
    (site / "layouts" / "_default" / "list.html").write_text(
        head + '<body><h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
        "{{ .Title }}</a></li>{{ end }}</ul></body></html>\n")
    content, count = site / "content", 0
    for text_path in sorted((work / "archive").glob("*/*/versions/*.md")):
        service, doc_type, version = text_path.parts[-4], text_path.parts[-3], text_path.stem
        folder = content / service / doc_type
        if not folder.is_dir():
            folder.mkdir(parents=True)
            (folder / "_index.md").write_text(f"---\ntitle: {json.dumps(f'{service} {doc_type}')}\n---\n")
            if not (folder.parent / "_index.md").exists():
                (folder.parent / "_index.md").write_text(f"---\ntitle: {json.dumps(service)}\n---\n")
        title = json.dumps(f"{service} {doc_type} {version}")
        (folder / f"{version}.md").write_text(f"---\ntitle: {title}\n---\n\n" + text_path.read_text())
        count += 1
    return count


def hugo_figures(hugo: str | None, work: Path, tmp: Path, runs: int) -> dict[str, Any]:
    if hugo is None:
        return {"hugo_version": None, "hugo_s": None, "hugo_pages": None, "hugo_peak_rss_mb": None}
    site = tmp / "hugo"
    write_hugo_site(work, site)
    results, pages = [], None
    for i in range(runs):
        public = tmp / f"hugo-public-{i}"
        command = [hugo, "--source", str(site), "--destination", str(public),
                   "--cacheDir", str(tmp / "hugo-cache"), "--ignoreCache"]
        results.append(run_measured(command, tmp / f"hugo-{i}.log"))
        found = re.search(r"^\s*Pages\s*\|\s*(\d+)", results[-1].stdout, re.M)
        pages = int(found.group(1)) if found else None
        shutil.rmtree(public)
    return {"hugo_version": _hugo_version(hugo), "hugo_s": median([r.wall_s for r in results]),
            "hugo_pages": pages, "hugo_peak_rss_mb": round(max(r.peak_rss_mb for r in results), 1)}


def tree_size(folder: Path) -> tuple[int, float]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), round(sum(p.stat().st_size for p in files) / 1e6, 1)


def measure(work: Path, tmp: Path, runs: int, seed: int, corpus: Path,
            profile: Path | None) -> dict[str, Any]:
    from generator.archive import load_archive  # the project, imported only when measuring
    from generator.uptodate import RACY_NS

    archive = load_archive(work / "archive")
    figures: dict[str, Any] = {"documents": len(archive.documents), "versions": archive.version_count,
                               "runs": runs, "bytecode_compiled": compile_project(),
                               "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    site, cache = tmp / "site", tmp / "cache"
    # A build that starts within RACY_NS of its inputs' last write cannot vouch for them (uptodate.py),
    # so the build after it does the whole work: with --runs 1, the no-op build right after the
    # archive was generated measured that, not a no-op (4.3 s at D = 400 instead of about 0.5 s).
    time.sleep(RACY_NS / 1e9 + 0.5)

    def build(kind: str, i: int, out: Path, cache: Path = cache) -> Run:
        run = run_measured(build_command(work, out), tmp / f"build-{kind}-{i}.log", cache)
        print(f"{kind} build {i + 1}/{runs}: {run.wall_s:.1f} s, largest process {run.peak_rss_mb:.0f} MB, "
              f"whole tree {run.peak_tree_mb} MB", file=sys.stderr)
        return run

    full = []
    for i in range(runs):  # each into an empty folder with an empty cache; the last one is kept
        last = i == runs - 1
        out, full_cache = (site, cache) if last else (tmp / f"site-full-{i}", tmp / f"cache-full-{i}")
        full.append(build("full", i, out, full_cache))
        if not last:
            shutil.rmtree(out)
            shutil.rmtree(full_cache, ignore_errors=True)
    figures["pages"] = pages_of(full[-1])
    figures["site_files"], figures["site_mb"] = tree_size(site)
    figures.update(hugo_figures(shutil.which("hugo"), work, tmp, runs))  # same versions as full builds
    noop = [build("noop", i, site) for i in range(runs)]
    documents = sorted(p.parent for p in (work / "corpus").glob("*/*/metadata.yaml"))
    pool = synthetic_archive.Pool(corpus)
    added, imports = [], []
    for i in range(runs):
        doc_dir = documents[i * len(documents) // runs]
        # dated as a scheduled capture's: after every version of the archive
        newest = synthetic_archive.newest_capture(work / "corpus")
        version = synthetic_archive.add_version(doc_dir, pool, seed, after=newest)
        started = time.perf_counter()
        synthetic_archive.run_import(work)
        imports.append(time.perf_counter() - started)
        print(f"added {doc_dir.parent.name}/{doc_dir.name}@{version}", file=sys.stderr)
        added.append(build("one-new-version", i, site))
    rule = next(p for p in sorted((work / "content" / "rules").glob("*/*.yaml"))
                if "\npatterns:\n" in p.read_text(encoding="utf-8"))
    original = rule.read_text(encoding="utf-8")
    edited = []
    try:
        for i in range(runs):  # a contributor's pull request: one rule's patterns edited
            pattern = f"  - all: ['\\bzzqx{i}\\b']\n"  # a pattern no clause meets
            rule.write_text(original.replace("\npatterns:\n", f"\npatterns:\n{pattern}", 1), encoding="utf-8")
            print(f"edited the patterns of {rule.relative_to(work)}", file=sys.stderr)
            edited.append(build("rule-edited", i, site))
    finally:
        rule.write_text(original, encoding="utf-8")
    by_kind = (("full", full), ("noop", noop), ("one_new_version", added), ("rule_edited", edited))
    figures.update({
        "full_build_s": median([r.wall_s for r in full]),
        "noop_build_s": median([r.wall_s for r in noop]),
        "one_new_version_build_s": median([r.wall_s for r in added]),
        "one_new_version_import_s": median(imports),
        "rule_edited_build_s": median([r.wall_s for r in edited]),
        "rule_edited_build_cpu_s": median([r.cpu_s for r in edited]),
        "noop_files_written": max(files_written(r) or 0 for r in noop),
        "one_new_version_files_written": median([float(files_written(r) or 0) for r in added]),
        "full_build_cpu_s": median([r.cpu_s for r in full]),
        "full_build_stages_s": {stage: median([stages_of(r).get(stage, 0.0) for r in full])
                                for stage in stages_of(full[-1])},
        "noop_build_cpu_s": median([r.cpu_s for r in noop]),
        "one_new_version_build_cpu_s": median([r.cpu_s for r in added]),
        "peak_rss_mb": round(max(r.peak_rss_mb for r in full + noop + added + edited), 1),
        "peak_tree_mb": max((r.peak_tree_mb or 0.0 for r in full + noop + added + edited), default=None),
        "peak_rss_mb_by_build": {name: round(max(r.peak_rss_mb for r in rs), 1) for name, rs in by_kind},
        "wall_s": {name: [round(r.wall_s, 2) for r in rs] for name, rs in by_kind},
    })
    if figures["hugo_s"]:
        figures["full_build_over_hugo"] = round(figures["full_build_s"] / figures["hugo_s"], 1)
    else:
        figures["full_build_over_hugo"] = None
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile.resolve()), "-m", "generator", "build",
                   "--content", str(work / "content"), "--archive", str(work / "archive"),
                   "--out", str(tmp / "site-profile")]
        run = run_measured(command, tmp / "build-profile.log", tmp / "cache-profile")
        print(f"profiled full build (under cProfile): {run.wall_s:.1f} s -> {profile}", file=sys.stderr)
    figures["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--archive-dir", type=Path, metavar="DIR",
                        help="output of bench/synthetic_archive.py (copied, never changed)")
    parser.add_argument("--documents", type=int, metavar="D", help="generate D documents first")
    parser.add_argument("--versions", type=int, metavar="V", help="... of V versions each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=synthetic_archive.DEFAULT_CORPUS,
                        help="the real corpus the synthetic texts come from")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=Path, metavar="FILE.prof",
                        help="also profile one extra full build with cProfile into this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()
    if (args.archive_dir is None) == (args.documents is None or args.versions is None):
        parser.error("give either --archive-dir DIR or both --documents and --versions")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    tmp = Path(tempfile.mkdtemp(prefix="clausewatch-bench-build-"))
    try:
        work = tmp / "work"
        if args.archive_dir is not None:
            source = args.archive_dir
            for name in ("corpus", "content", "archive", "key"):
                if not (source / name).is_dir():
                    sys.exit(f"{source / name} is missing: make DIR with bench/synthetic_archive.py")
            work.mkdir()
            for name in ("corpus", "content", "archive", "key"):
                shutil.copytree(source / name, work / name, symlinks=True)
        else:
            summary = synthetic_archive.generate(work, args.documents, args.versions, args.seed, args.corpus)
            print(f"generated: {json.dumps(summary)}", file=sys.stderr)
        figures = measure(work, tmp, args.runs, args.seed, args.corpus, args.profile)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
