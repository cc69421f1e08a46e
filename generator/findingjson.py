"""A finding as JSON: one shape for the site's JSON API and `clausewatch analyze --format json`, so
that a script written against one reads the other. Pure."""

from __future__ import annotations

from typing import Any

from .markup import without_bidi_controls
from .model import Finding


def finding_record(f: Finding, rule_title: str | None) -> dict[str, Any]:
    """The finding's fields, its quote and list as readers see them (bidirectional controls left
    out); `lead_in` null when the finding was not read after a list's lead-in."""
    return {"rule_id": f.rule_id, "rule_title": rule_title, "severity": f.severity,
            "category": f.category, "clause_id": f.clause_id, "quote": without_bidi_controls(f.quote),
            "start": f.start, "end": f.end, "lead_in": without_bidi_controls(f.lead_in) or None,
            "list_items": [without_bidi_controls(i) for i in f.items]}


def finding_from_record(record: dict[str, Any]) -> Finding:
    """Back from finding_record, or from the shape `analyze --format json` wrote before it (the
    Finding's own fields: `items`, `lead_in` ""), which `rules impact` meets when it runs an older
    revision's code. KeyError or TypeError when the record is neither."""
    return Finding(rule_id=record["rule_id"], severity=record["severity"], category=record["category"],
                   clause_id=record["clause_id"], quote=record["quote"], start=record["start"],
                   end=record["end"], lead_in=record.get("lead_in") or "",
                   items=tuple(record["list_items"] if "list_items" in record else record.get("items", ())))
