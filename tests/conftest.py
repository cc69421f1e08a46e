"""Shared fixtures: paths, the demo key, small imported archives built from the real corpus."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from generator.archive import PUBLIC_KEY_FILE
from generator.signing import Signer, generate_key_pair, load_signer

from .browser import PageLog, ServedSite, launch_chromium, require_chromium, sample_pages, serve_site

ROOT = Path(__file__).resolve().parent.parent
# The sample corpus lives in shared/ beside the project; CLAUSEWATCH_CORPUS may point elsewhere.
CORPUS = Path(os.environ.get("CLAUSEWATCH_CORPUS") or ROOT.parent / "shared" / "corpus")
CLAUSES = ROOT.parent / "shared" / "clauses"  # the labelled development sentences
DEMO_KEY = ROOT / "demo-key" / "DEMO-ONLY-minisign.key"
DATA = Path(__file__).resolve().parent / "data"

# Builds during the tests (and the commands they run) share one throwaway build cache, never the
# user's: set before any test runs so that subprocesses inherit it.
os.environ["CLAUSEWATCH_CACHE_DIR"] = _TEST_CACHE = tempfile.mkdtemp(prefix="clausewatch-test-cache-")
atexit.register(shutil.rmtree, _TEST_CACHE, True)

# A few real documents: single pages with snapshots, a multi-page capture, and no snapshots.
SMALL_SET = (
    "claude-ai/commercial-terms",
    "google-generative-ai-services/terms-of-service",
    "openai/terms-of-service",
    "firefox/privacy-policy",
)
# The committed archive's files from before this date are the sample corpus imported with the demo
# key; scheduled captures add later ones, which the `project` fixture leaves out.
SAMPLE_IMPORTED_BEFORE = "2026-12-01"


# Tests that read ../shared/ (the sample corpus or the labelled clauses), which this repository does
# not hold: `.ci/run` runs them; the pull-request workflow on GitHub, which has no ../shared/,
# deselects them with `-m "not needs_shared"`. They reach it only through these fixtures, so every
# one of them gets the marker.
NEEDS_SHARED = "needs_shared"
SHARED_FIXTURES = ("corpus", "clauses_dir")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{NEEDS_SHARED}: reads ../shared/ (corpus or labelled clauses)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SHARED_FIXTURES):
            item.add_marker(NEEDS_SHARED)


def corpus_path() -> Path:
    if not (CORPUS / "index.yaml").exists():
        raise RuntimeError(f"the sample corpus is expected at {CORPUS} (shared/ beside the project, "
                           "or set CLAUSEWATCH_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_path()


@pytest.fixture(scope="session")
def clauses_dir() -> Path:
    if not any(CLAUSES.glob("*.dev.jsonl")):
        raise RuntimeError(f"the labelled development sentences are expected in {CLAUSES}")
    return CLAUSES


@pytest.fixture(scope="session")
def demo_signer() -> Signer:
    return load_signer(DEMO_KEY)


@pytest.fixture
def key_pair(tmp_path: Path) -> tuple[Path, Path]:
    return generate_key_pair(tmp_path / "keys")


def copy_documents(corpus: Path, keys: tuple[str, ...], dest: Path) -> Path:
    for key in keys:
        shutil.copytree(corpus / key, dest / key)
    return dest


@pytest.fixture
def small_corpus(corpus: Path, tmp_path: Path) -> Path:
    return copy_documents(corpus, SMALL_SET, tmp_path / "corpus")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A temporary project: content/ (settings, types, rules and pages from the repo) and the
    SMALL_SET documents of the committed archive, each declared as the repository declares it.
    (The committed archive is the sample corpus imported with the demo key: these files are the
    bytes an import of SMALL_SET writes, which tests/test_committed_archive.py checks. Taken from here, the
    tests that only need a project run where ../shared/ is not, as in the pull-request workflow.)"""
    content = tmp_path / "content"
    content.mkdir()
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    shutil.copytree(ROOT / "content" / "rules", content / "rules")
    shutil.copytree(ROOT / "content" / "pages", content / "pages")
    archive = tmp_path / "archive"
    for key in SMALL_SET:
        for folder in ("versions", "snapshots"):
            if not (ROOT / "archive" / key / folder).is_dir():
                continue  # (a document imported without snapshots)
            (archive / key / folder).mkdir(parents=True)
            for path in (ROOT / "archive" / key / folder).iterdir():
                if path.name < SAMPLE_IMPORTED_BEFORE:  # (named by capture time)
                    shutil.copy2(path, archive / key / folder / path.name)
    shutil.copy(ROOT / "archive" / PUBLIC_KEY_FILE, archive / PUBLIC_KEY_FILE)
    declared: dict[str, set[str]] = {}
    for key in SMALL_SET:
        service, doc_type = key.split("/")
        declared.setdefault(service, set()).add(doc_type)
    (content / "services").mkdir()
    for service, doc_types in declared.items():
        declaration = yaml.safe_load((ROOT / "content" / "services" / f"{service}.yaml").read_text())
        declaration["documents"] = {t: d for t, d in declaration["documents"].items() if t in doc_types}
        (content / "services" / f"{service}.yaml").write_text(yaml.safe_dump(declaration, sort_keys=False))
    return tmp_path


def tree_state(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time, to prove that nothing was rewritten."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- Browser tests: the committed site, built once, served on 127.0.0.1, and Chromium ----------
# Helpers and what each fixture gives are in tests/browser.py; tests/test_browser.py uses them.

@pytest.fixture(scope="session")
def committed_site(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The site built once per test run from the committed content/ and archive/: with several
    xdist workers, the first to ask builds it in their run's shared folder and the others wait for
    it (the tests only read it), instead of each building its own at the same time."""
    import fcntl

    from generator.pipeline import build

    if worker_id == "master":  # one process: its own folder
        out = tmp_path_factory.mktemp("committed-site") / "site"
        build(ROOT / "content", ROOT / "archive", out)
        return out
    shared = tmp_path_factory.getbasetemp().parent / "committed-site"  # this run's, all workers'
    shared.mkdir(exist_ok=True)
    out, done = shared / "site", shared / "built"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            build(ROOT / "content", ROOT / "archive", out)
            done.touch()
    return out


@pytest.fixture(scope="session")
def served_site(committed_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """The committed site served on 127.0.0.1 (free port, daemon thread) under the base path of
    content/site.yaml's base_url, as deployed: `served_site.url("about/")` is a page's URL."""
    from urllib.parse import urlsplit

    from generator.content import load_content

    base_path = urlsplit(load_content(ROOT / "content").settings.base_url).path
    with serve_site(committed_site, base_path) as site:
        yield site


@pytest.fixture(scope="session")
def site_pages(committed_site: Path) -> dict[str, str]:
    """One site path per page type: home, service, document, version, history, about, 404,
    changes, search, categories, category, rules, rule, methodology."""
    return sample_pages(committed_site)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API, per test module: while it runs, the thread counts as inside a
    running event loop, so a later module's asyncio.run() would fail if this lived all session."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with CI's flags (see tests/browser.py)."""
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


NewPage = Callable[..., tuple[Page, PageLog]]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """A factory: `page, log = new_page(**context_options)` opens a page in a fresh context
    (options of Browser.new_context: viewport, color_scheme, java_script_enabled, ...) with a
    PageLog recording its console errors and every request; contexts close after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> tuple[Page, PageLog]:
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        return page, PageLog().attach(page)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A page in a fresh default context (1280x720, light, JavaScript on)."""
    return new_page()[0]
