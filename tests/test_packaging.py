"""What the deploy workflows install: the hash-locked dependencies (requirements.lock) and an
installed clausewatch that builds the site with nothing from the source tree but its inputs."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import ROOT

LOCK = ROOT / "requirements.lock"
DEPLOY_WORKFLOWS = ("capture.yml", "site.yml")  # the ones that hold a secret or publish
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$")


def locked() -> dict[str, tuple[str, list[str]]]:
    """Each pinned distribution (canonical name) → (version, its sha256 hashes)."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if found := PIN.match(line):
            current = []
            pins[canonicalize_name(found.group(1))] = (found.group(2), current)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current.append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"requirements.lock: unexpected line {line!r}")
    return pins


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in project["project"]["dependencies"] + project["build-system"]["requires"]]


def test_lock_pins_every_declared_dependency_with_hashes() -> None:
    pins = locked()
    for name, (_, hashes) in pins.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is declared in pyproject.toml but not locked: re-run the " \
                             "pip-compile command at the top of requirements.lock"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), \
            f"requirements.lock pins {name}=={pins[name][0]}, outside pyproject.toml's {requirement}"


def _closure(requirements: list[Requirement]) -> set[str]:
    """The distributions these requirements need, transitively, as installed here (with the
    requirements their extras add)."""
    environment = {k: str(v) for k, v in default_environment().items()}

    def wanted(requirement: Requirement, extras: set[str]) -> bool:
        return requirement.marker is None or any(
            requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras | {""})

    todo = [r for r in requirements if wanted(r, set())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        children = [Requirement(r) for r in importlib.metadata.requires(requirement.name) or []]
        todo += [child for child in children if wanted(child, set(requirement.extras))]
    return {name for name, _ in seen}


def test_lock_holds_everything_the_dependencies_pull_in() -> None:
    # The installed dependencies' own requirements (this venv resolved them afresh): a package one
    # of them started to need since the lock was made would fail the hash-checked install.
    runtime = [r for r in declared_requirements() if canonicalize_name(r.name) != "setuptools"]
    missing = _closure(runtime) - set(locked())
    assert not missing, f"not in requirements.lock: {sorted(missing)}; re-run its pip-compile command"


def test_deploy_workflows_install_only_locked_wheels_and_the_project_alone() -> None:
    for name in DEPLOY_WORKFLOWS:
        workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
        installs = [line.strip() for job in workflow["jobs"].values() for step in job["steps"]
                    for line in str(step.get("run", "")).splitlines() if " pip install" in line]
        assert installs, name
        for line in installs:
            assert line.endswith(("--require-hashes --only-binary :all: -r requirements.lock",
                                  "--no-deps --no-build-isolation --no-index .")), f"{name}: {line}"


def test_an_installed_clausewatch_builds_the_site_with_its_own_theme(tmp_path: Path) -> None:
    # As the workflows install it (`pip install .`, not editable): the wheel is built from a copy of
    # the sources, unpacked, and run from there on the committed sample, away from the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / part, source / part)
    for folder in ("generator", "themes"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(wheels), str(source)], check=True, capture_output=True,
                          text=True)
    # A theme folder missing from pyproject's `packages` makes setuptools warn at length on install.
    assert "absent from the `packages` configuration" not in made.stderr + made.stdout, made.stderr
    installed = tmp_path / "installed"
    with zipfile.ZipFile(next(wheels.glob("clausewatch-*.whl"))) as wheel:
        wheel.extractall(installed)
    package = installed / "generator"
    shipped = {p.relative_to(package).as_posix() for p in (package / "themes").rglob("*") if p.is_file()}
    expected = {p.relative_to(ROOT).as_posix() for p in (ROOT / "themes").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert shipped == expected

    work = tmp_path / "elsewhere"
    work.mkdir()
    # (block-buffered output, as on most machines: what is not flushed before the process ends is lost)
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
           "PYTHONPATH": str(installed), "CLAUSEWATCH_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.run([sys.executable, "-c", "import generator.sitefolder as r; print(r.DEFAULT_THEME)"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where) == installed / "generator" / "themes" / "default"
    built = subprocess.run([sys.executable, "-m", "generator", "build", "--content", str(ROOT / "content"),
                            "--archive", str(ROOT / "archive"), "--out", str(work / "site")],
                           cwd=work, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    home = (work / "site" / "index.html").read_text(encoding="utf-8")
    assert "<main" in home and (work / "site" / "assets").is_dir()
    # A build's process ends without the interpreter's teardown (cli.entry): its summary still reaches
    # the pipe, and the console script is that entry.
    assert built.stdout.splitlines()[-1].startswith(f"built {work / 'site'}: "), built.stdout
    scripts = next(installed.glob("clausewatch-*.dist-info")) / "entry_points.txt"
    assert "clausewatch = generator.cli:entry" in scripts.read_text(encoding="utf-8")


def test_a_failed_build_run_as_a_program_ends_with_its_status_and_message(tmp_path: Path) -> None:
    failed = subprocess.run([sys.executable, "-m", "generator", "build", "--content", str(tmp_path / "none"),
                             "--archive", str(ROOT / "archive"), "--out", str(tmp_path / "site")],
                            capture_output=True, text=True,
                            env={**os.environ, "CLAUSEWATCH_CACHE_DIR": str(tmp_path / "cache")})
    assert failed.returncode == 1, failed
    assert "error" in failed.stderr and str(tmp_path / "none") in failed.stderr, failed.stderr
