"""Shared fixtures: paths, the demo key, small imported archives built from the real corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.archive import ArchiveWriter
from generator.ota_import import import_corpus, write_missing_declarations
from generator.signing import Signer, generate_key_pair, load_signer

ROOT = Path(__file__).resolve().parent.parent
# The sample corpus lives in shared/ beside the project; CLAUSEWATCH_CORPUS may point elsewhere.
CORPUS = Path(os.environ.get("CLAUSEWATCH_CORPUS") or ROOT.parent / "shared" / "corpus")
DEMO_KEY = ROOT / "demo-key" / "DEMO-ONLY-minisign.key"
DATA = Path(__file__).resolve().parent / "data"

# A few real documents: single pages with snapshots, a multi-page capture, and no snapshots.
SMALL_SET = (
    "claude-ai/commercial-terms",
    "google-generative-ai-services/terms-of-service",
    "openai/terms-of-service",
    "firefox/privacy-policy",
)


def corpus_path() -> Path:
    if not (CORPUS / "index.yaml").exists():
        raise RuntimeError(f"the sample corpus is expected at {CORPUS} (shared/ beside the project, "
                           "or set CLAUSEWATCH_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_path()


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
def project(tmp_path: Path, small_corpus: Path, demo_signer: Signer) -> Path:
    """A temporary project: content/ (settings and types from the repo) + an imported archive."""
    content = tmp_path / "content"
    content.mkdir()
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    import_corpus(small_corpus, ArchiveWriter(tmp_path / "archive", demo_signer))
    write_missing_declarations(small_corpus, content / "services")
    return tmp_path


def tree_state(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and modification time, to prove that nothing was rewritten."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}
