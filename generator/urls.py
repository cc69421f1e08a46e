"""The URL contract: where each page, raw file, feed and data file lives, relative to the site
root (pages end in '/'). Pages, feeds, the JSON API and the sitemap all take paths from here."""

from __future__ import annotations

from .checklog import CHECKS_FILE
from .model import DocKey


def service_path(slug: str) -> str:
    return f"{slug}/"


def document_path(key: DocKey) -> str:
    return f"{key.service}/{key.doc_type}/"


def history_path(key: DocKey) -> str:
    return f"{document_path(key)}history/"


def version_path(key: DocKey, version_id: str) -> str:
    return f"{document_path(key)}{version_id}/"


def changes_path(key: DocKey, version_id: str) -> str:
    return f"{version_path(key, version_id)}changes/"


def raw_path(key: DocKey, version_id: str, suffix: str) -> str:
    return f"{document_path(key)}{version_id}{suffix}"


def checks_log_path(key: DocKey) -> str:
    """The document's signed check log, published next to its pages (when it has one)."""
    return f"{document_path(key)}{CHECKS_FILE}"


def category_path(slug: str) -> str:
    return f"categories/{slug}/"


def rule_path(rule_id: str) -> str:
    return f"rules/{rule_id}/"


def document_api_path(key: DocKey) -> str:
    return f"api/{key.service}/{key.doc_type}.json"


def version_api_path(key: DocKey, version_id: str) -> str:
    return f"api/{key.service}/{key.doc_type}/{version_id}.json"


def service_feed_path(slug: str) -> str:
    return f"feeds/{slug}.xml"


def document_feed_path(key: DocKey) -> str:
    return f"feeds/{key.service}/{key.doc_type}.xml"


def category_feed_path(slug: str) -> str:
    return f"feeds/categories/{slug}.xml"


ALL_FEED_PATH = "feeds/all.xml"
