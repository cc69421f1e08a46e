import pytest

from generator.model import DocKey, Problem
from generator.normalize import canonical_markdown


def test_doc_key_round_trip() -> None:
    key = DocKey.parse("claude-ai/terms-of-service")
    assert (key.service, key.doc_type) == ("claude-ai", "terms-of-service")
    assert str(key) == "claude-ai/terms-of-service"


@pytest.mark.parametrize("text", ["claude-ai", "Claude/terms", "a/b/c", "a_b/terms", "/terms"])
def test_doc_key_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="not a document key"):
        DocKey.parse(text)


def test_problem_names_file_key_and_fix() -> None:
    problem = Problem("content/services/acme.yaml", "documents.privacy-policy.url", "not an http(s) URL",
                      "write an absolute URL")
    assert str(problem) == ("content/services/acme.yaml: documents.privacy-policy.url: "
                            "not an http(s) URL (fix: write an absolute URL)")


def test_canonical_markdown_rules() -> None:
    raw = "\r\n\nTitle  \r\n=====\r\n\ntext with trailing \t\n\n\n"
    assert canonical_markdown(raw) == "Title\n=====\n\ntext with trailing\n"


def test_canonical_markdown_is_idempotent_and_keeps_inner_blank_lines() -> None:
    text = "a\n\n\nb\n"
    assert canonical_markdown(text) == text
    assert canonical_markdown(canonical_markdown("x  \ny")) == "x\ny\n"
    assert canonical_markdown("  \n \n") == ""


def test_canonical_markdown_drops_what_html_and_xml_forbid_in_text() -> None:
    # An imported or captured text must not make our pages invalid HTML or our feeds invalid XML.
    raw = "We\x0bmay\x0cend\x85it\x01 now\x7f,\x00 here\ufffe\U0010ffff\ufdd0.\u00a0Tab\there 😀\n"
    assert canonical_markdown(raw) == "We may end it now, here.\u00a0Tab\there 😀\n"
    assert canonical_markdown(canonical_markdown(raw)) == canonical_markdown(raw)


def test_a_slug_or_version_id_with_a_line_break_after_it_is_refused() -> None:
    """`$` matches before a final line break: "acme\\n" passed as a slug (a service file so named
    validated, then every capture of it failed at signing)."""
    from generator.model import SLUG_RE, VERSION_ID_RE

    assert SLUG_RE.match("acme") and not SLUG_RE.match("acme\n")
    assert VERSION_ID_RE.match("2024-01-01T00-00-00Z") and not VERSION_ID_RE.match("2024-01-01T00-00-00Z\n")
