"""Import Open Terms Archive data (the layout of shared/corpus/) into a signed archive.

Incremental and idempotent: versions already in the archive are skipped untouched, so a
re-import after one version was added writes only that version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import GENERATOR
from .archive import VERSIONS_DIR, ArchiveWriter, NewVersion, RawPage, document_dir, snapshot_page_names
from .fetch import FetchSettings
from .model import SLUG_RE, VERSION_ID_RE, DocKey, Problem, ProblemsError
from .normalize import canonical_markdown
from .yamlload import load_yaml


@dataclass(frozen=True)
class ImportReport:
    key: DocKey
    versions: int
    new_versions: int
    snapshots: int


def find_documents(corpus: Path) -> list[Path]:
    """Every folder under corpus that holds a metadata.yaml, sorted."""
    return sorted(p.parent for p in corpus.glob("*/*/metadata.yaml"))


def _load_metadata(path: Path) -> dict[str, Any]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ProblemsError([Problem(str(path), "", f"unreadable: {err}", "check the file")]) from err
    except UnicodeDecodeError as err:
        raise ProblemsError([Problem(str(path), "", f"not UTF-8 (byte {err.start})",
                                     "the export is corrupt or was edited; re-export it")]) from err
    if not isinstance(data, dict) or not isinstance(data.get("versions"), list):
        raise ProblemsError([Problem(str(path), "versions", "missing version list",
                                     "is this an Open Terms Archive export folder?")])
    for field in ("service_slug", "document_type_slug"):
        if not isinstance(data.get(field), str) or not SLUG_RE.match(data[field]):
            raise ProblemsError([Problem(str(path), field, "missing or not a kebab-case slug",
                                         "set it to the folder name")])
    problems = [Problem(str(path), key, f"not {shape}", "the export is corrupt or was edited; re-export it")
                for key, shape in _shape_problems(data)]
    if problems:
        raise ProblemsError(problems)
    return data


def _is_terms(terms: Any) -> bool:
    """An OTA declaration's terms: a page ('fetch' and its selectors) or pages to 'combine'."""
    def page(value: Any) -> bool:
        return isinstance(value, dict) and isinstance(value.get("fetch"), str)

    if not isinstance(terms, dict):
        return False
    if "combine" in terms:
        return isinstance(terms["combine"], list) and all(map(page, terms["combine"]))
    return "fetch" not in terms or page(terms)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def _unwritable(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """Values the import could not write back as JSON: YAML's unquoted dates and times (Open Terms
    Archive writes times as quoted text) and text that is no Unicode (a lone surrogate, from an
    escape such as "\\ud800")."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _unwritable(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unwritable(item, f"{key}[{i}]")
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield key, "text in Unicode (it holds a lone surrogate)"
    elif not isinstance(value, (int, float, bool)) and value is not None:
        yield key, f"text, a number or true/false (YAML read {type(value).__name__}: quote it)"


def _shape_problems(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(key, expected shape) for each part of an export's metadata that the import reads and that
    has another shape."""
    yield from _unwritable(data, "")
    for name in ("source", "licence"):
        if data.get(name) is not None and not isinstance(data[name], dict):
            yield name, "a mapping"
    for i, entry in enumerate(data["versions"]):
        where = f"versions[{i}]"
        if not isinstance(entry, dict):
            yield where, "a mapping"
            continue
        if not isinstance(entry.get("file"), str):
            yield f"{where}.file", "a file name"
        if entry.get("kind") not in ("first", "change", "technical"):
            yield f"{where}.kind", "first, change or technical"
        if not (isinstance(entry.get("timestamp"), str) and _TIMESTAMP.fullmatch(entry["timestamp"])):
            yield f"{where}.timestamp", "a UTC time such as 2024-03-14T12:31:33Z"
        elif isinstance(entry.get("file"), str) and \
                Path(entry["file"]).stem != entry["timestamp"].replace(":", "-"):  # the id is the file's name
            yield f"{where}.timestamp", f"the time its file is named after ({Path(entry['file']).stem})"
        declaration = entry.get("declaration")
        if declaration is not None and not (
                isinstance(declaration, dict) and _is_terms(declaration.get("terms") or {})):
            yield f"{where}.declaration", "a mapping with 'terms' (as Open Terms Archive writes them)"
        elif declaration is not None and not (isinstance(urls := declaration.get("urls") or [], list)
                                              and all(isinstance(u, str) for u in urls)):
            yield f"{where}.declaration.urls", "a list of the pages' URLs, as text"
        snapshots = entry.get("snapshots") or []
        if not isinstance(snapshots, list) or not all(
                isinstance(s, dict) and isinstance(s.get("stored_as") or "", str) for s in snapshots):
            yield f"{where}.snapshots", "a list of mappings"


# The largest file capture would record: a page's body is refused past this (fetch.py), and its
# text is smaller. An export's file past it is no policy page (the committed corpus's largest text
# is 150 KB), and every build would render and analyse it.
MAX_FILE_BYTES = FetchSettings.max_body_bytes


def _read_checked(doc_dir: Path, name: str, sha256: str | None, where: str) -> bytes:
    path = doc_dir / name
    if not path.resolve().is_relative_to(doc_dir.resolve()):  # "../../x": not part of this export
        raise ProblemsError([Problem(where, "", f"{name!r} is outside the document's folder",
                                     "list only files of the document's folder (versions/, snapshots/)")])
    try:
        if (size := path.stat().st_size) > MAX_FILE_BYTES:
            raise ProblemsError([Problem(where, "", f"{name} is {size:,} bytes, more than capture would keep "
                                         f"of any page ({MAX_FILE_BYTES:,})",
                                         "check the export: no policy page is this large")])
        data = path.read_bytes()
    except OSError as err:
        raise ProblemsError([Problem(where, "", f"cannot read {path.name}: {err.strerror}",
                                     "restore the file")]) from err
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise ProblemsError([Problem(where, "sha256", f"{path.name} does not match its recorded digest",
                                     "the export is corrupt or was edited; re-export it")])
    return data


def _source(meta: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Provenance of one imported version, precise enough to find it in OTA's repositories."""
    src, licence = meta.get("source") or {}, meta.get("licence") or {}
    repo = src.get("versions_repo")
    decl = entry.get("declaration") or {}
    return {
        "name": "Open Terms Archive",
        "collection": meta.get("collection"),
        "repository": repo,
        "commit": src.get("versions_repo_commit"),
        "ref": f"{repo}@{entry.get('commit')}",
        "path": src.get("versions_path"),
        "message": entry.get("message"),
        "original_sha256": entry.get("sha256"),
        "original_bytes": entry.get("bytes"),
        "declaration_ref": f"{src.get('declarations_repo')}@{decl.get('commit')}" if decl else None,
        "snapshots": [
            {"ref": f"{s.get('repo')}@{s.get('commit')}", "path": s.get("path"),
             "fetched_at": s.get("fetched_at"), "url": s.get("url"), "fetcher": s.get("fetcher"),
             "stored": bool(s.get("stored_as"))}
            for s in entry.get("snapshots") or ()
        ],
        "licence": licence.get("spdx"),
        "attribution": licence.get("versions_attribution"),
        "snapshots_attribution": licence.get("snapshots_attribution"),
    }


def _new_version(doc_dir: Path, meta: dict[str, Any], key: DocKey, entry: dict[str, Any],
                 where: str) -> NewVersion:
    file = str(entry.get("file", ""))
    version_id = Path(file).stem
    if not VERSION_ID_RE.match(version_id):
        raise ProblemsError([Problem(where, f"versions[{entry.get('timestamp')}].file",
                                     f"{file!r} is not named <YYYY-MM-DDTHH-MM-SSZ>.md", "rename it")])
    raw_text = _read_checked(doc_dir, file, entry.get("sha256"), where)
    stored = [s for s in entry.get("snapshots") or () if s.get("stored_as")]
    # Stored under our own names, not the export's (which numbers every page of a multi-page
    # document, leaving no <snapshot-id>.html).
    pages = tuple(
        RawPage(name, _read_checked(doc_dir, str(s["stored_as"]), s.get("sha256"), where),
                s.get("url"), s.get("fetched_at"))
        for name, s in zip(snapshot_page_names(version_id, len(stored)), stored, strict=True)
    )
    urls = (entry.get("declaration") or {}).get("urls") or []
    kind = entry.get("kind")
    try:
        text = raw_text.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProblemsError([Problem(where, f"versions[{entry.get('timestamp')}].file",
                                     f"{file!r} is not UTF-8 (byte {err.start})",
                                     "the export is corrupt or was edited; re-export it")]) from err
    return NewVersion(
        key=key, id=version_id, text=canonical_markdown(text),
        snapshot_id=version_id if pages else None, pages=pages,
        metadata={
            "captured_at": entry.get("timestamp"), "kind": kind, "technical": kind == "technical",
            "url": urls[0] if len(urls) == 1 else None, "urls": urls,
            "final_url": None, "http_status": None,  # OTA's exports do not record them
            "source": _source(meta, entry), "generator": GENERATOR,
        },
    )


def import_document(doc_dir: Path, writer: ArchiveWriter) -> ImportReport:
    meta_path = doc_dir / "metadata.yaml"
    meta = _load_metadata(meta_path)
    key = DocKey(meta["service_slug"], meta["document_type_slug"])
    target = document_dir(writer.root, key) / VERSIONS_DIR
    new = snapshots = 0
    for entry in meta["versions"]:
        version_id = Path(str(entry.get("file", ""))).stem
        stored = [s for s in entry.get("snapshots") or () if s.get("stored_as")]
        snapshots += bool(stored)
        if (target / f"{version_id}.json").exists():
            continue  # versions are immutable: never re-read or rewrite what is recorded
        writer.record(_new_version(doc_dir, meta, key, entry, str(meta_path)))
        new += 1
    return ImportReport(key, len(meta["versions"]), new, snapshots)


def import_corpus(corpus: Path, writer: ArchiveWriter,
                  progress: Callable[[ImportReport], None] = lambda r: None) -> list[ImportReport]:
    documents = find_documents(corpus)
    if not documents:
        raise ProblemsError([Problem(str(corpus), "", "no <service>/<doc-type>/metadata.yaml found",
                                     "point import-ota at a folder in the layout of shared/corpus/")])
    reports = []
    for doc_dir in documents:
        report = import_document(doc_dir, writer)
        progress(report)
        reports.append(report)
    return reports


# -- declarations for content/services/ ---------------------------------------------------

_RANGE_KEYS = {"startBefore": "start_before", "startAfter": "start_after",
               "endBefore": "end_before", "endAfter": "end_after"}


def _selectors(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value] if value else []
    return [{ours: item[theirs] for theirs, ours in _RANGE_KEYS.items() if theirs in item}
            if isinstance(item, dict) else item for item in items]


def _page(terms: dict[str, Any]) -> dict[str, Any]:
    page: dict[str, Any] = {"url": terms["fetch"]}
    for name in ("select", "remove"):
        if terms.get(name):
            page[name] = _selectors(terms[name])
    return page


def declaration_from_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """The newest OTA declaration of a document, in our YAML schema."""
    terms = ((meta["versions"][-1].get("declaration") or {}).get("terms")) or {}
    if "combine" in terms:
        doc: dict[str, Any] = {"pages": [_page(p) for p in terms["combine"]]}
        for name in ("select", "remove"):
            if terms.get(name):
                doc[name] = _selectors(terms[name])
        return doc
    if "fetch" in terms:
        return _page(terms)
    return {"url": meta.get("source_url") or (meta.get("source_urls") or [""])[0]}


def service_declarations(corpus: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(service slug, service YAML mapping) for every service in an OTA export."""
    services: dict[str, dict[str, Any]] = {}
    for doc_dir in find_documents(corpus):
        meta = _load_metadata(doc_dir / "metadata.yaml")
        service = services.setdefault(meta["service_slug"], {
            "name": meta.get("service") or meta["service_slug"],
            "operator": meta.get("operator"),
            "documents": {},
        })
        service["documents"][meta["document_type_slug"]] = declaration_from_metadata(meta)
    yield from sorted(services.items())


def write_missing_declarations(corpus: Path, services_dir: Path) -> list[Path]:
    """Create content/services/<service>.yaml for imported services that have none."""
    written = []
    for slug, service in service_declarations(corpus):
        path = services_dir / f"{slug}.yaml"
        if path.exists():
            continue
        services_dir.mkdir(parents=True, exist_ok=True)
        if not service["operator"]:
            del service["operator"]
        body = yaml.safe_dump(service, sort_keys=False, allow_unicode=True, width=100)
        path.write_text("# Declared from the Open Terms Archive declaration of this service.\n" + body,
                        encoding="utf-8")
        written.append(path)
    return written
