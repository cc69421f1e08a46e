"""Clause splitting: sentences and list items with heading context, stable ids, true offsets."""

from __future__ import annotations

import statistics

from generator.analyze import analyze_markdown
from generator.archive import load_archive
from generator.clauses import clause_id, split_clauses, split_sentences
from generator.commands import _ruleset

from .conftest import ROOT

DOC = """Terms of Service
================

Welcome to Acme, Inc. These terms apply to you. We may change them, e.g. to follow the law.

## 2\\. Your content

- You keep **ownership** of what you post.
- We may remove [posts](https://acme.test/rules) that break the rules.
  Repeated breaches lead to suspension.

| Plan | Price |
|------|-------|
| Free | 0 |
"""


def test_sentences_list_items_and_headings() -> None:
    clauses = split_clauses(DOC)
    assert [(c.kind, c.text) for c in clauses] == [
        ("heading", "Terms of Service"),
        ("sentence", "Welcome to Acme, Inc. These terms apply to you."),
        ("sentence", "We may change them, e.g. to follow the law."),
        ("heading", "2. Your content"),
        ("list-item", "You keep ownership of what you post."),
        ("list-item", "We may remove posts that break the rules."),
        ("list-item", "Repeated breaches lead to suspension."),
        ("table-header", "Plan Price"),
        ("table-row", "Free 0"),
    ]
    assert clauses[5].heading == "2. Your content"


def test_offsets_point_into_the_markdown() -> None:
    for clause in split_clauses(DOC):
        source = DOC[clause.start:clause.end]
        assert source.split()[0].strip("*[#\\") in clause.text or clause.kind.startswith("table-")
    remove = next(c for c in split_clauses(DOC) if c.text.startswith("We may remove"))
    assert DOC[remove.start:remove.end].startswith("We may remove [posts](https://acme.test/rules)")


def test_ids_depend_only_on_the_wording() -> None:
    before = {c.text: c.id for c in split_clauses(DOC)}
    edited = DOC.replace("These terms apply to you.", "These terms apply to every user.")
    after = {c.text: c.id for c in split_clauses("Intro paragraph.\n\n" + edited)}
    kept = "We may remove posts that break the rules."
    assert after[kept] == before[kept]
    assert clause_id("We  MAY remove posts.") == clause_id("we may remove posts")
    assert "Welcome to Acme, Inc. These terms apply to every user." in after


def test_repeated_clauses_get_distinct_ids() -> None:
    ids = [c.id for c in split_clauses("Same words here.\n\nSame words here.\n")]
    assert len(set(ids)) == 2 and ids[1] == ids[0] + "-2"


def test_abbreviations_and_numbers_do_not_split() -> None:
    text = "See Sec. 4 of the U.S. rules, i.e. the 1.5 version. Then stop."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "See Sec. 4 of the U.S. rules, i.e. the 1.5 version.", "Then stop."]
    # Initialisms of any letters, not only the listed ones; a word before a full stop still ends.
    text = "We may change the R.I.P. Pass at any time. Write to P.O. Box 12. Acme d.b.a. Zed. Ends here."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "We may change the R.I.P. Pass at any time.", "Write to P.O. Box 12.", "Acme d.b.a. Zed.",
        "Ends here."]


def test_sentences_glued_by_extraction_are_split() -> None:
    # A page's markup ended one sentence and began the next without a space between them.
    text = "This does not terminate this agreement.Our right to terminate. It is accurate.If not, write."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "This does not terminate this agreement.", "Our right to terminate.", "It is accurate.",
        "If not, write."]
    text = "Opt out of the arbitration provision. - Exclusive Venue. If you opt out, courts decide."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Opt out of the arbitration provision.", "- Exclusive Venue.", "If you opt out, courts decide."]
    # Not a sentence end: a brand, an e-mail address, a domain, an abbreviation, a capitalised run.
    for text in ("Grok is made by x.AI in Palo Alto.", "Write to EUrepresentative.Substack@example.com now.",
                 "Visit acme.Com/help today.", "Lists, etc.The end.", "NO DAMAGES.THE LAW applies."):
        assert [text[a:b] for a, b in split_sentences(text)] == [text], text


def test_every_archived_version_splits_and_ids_are_mostly_stable() -> None:
    kept: list[float] = []  # per change: the share of the previous version's clause ids still there
    for doc in load_archive(ROOT / "archive").documents:
        previous: set[str] | None = None
        for version in doc.versions:
            clauses = split_clauses(version.read_text())
            assert clauses, f"{doc.key} {version.id}"
            ids = {c.id for c in clauses}
            if previous is not None and version.kind == "change":
                kept.append(len(ids & previous) / len(previous))
            previous = ids
    assert len(kept) > 100
    # Most changes touch a few clauses: the others keep their ids, and so their permalinks.
    assert statistics.median(kept) > 0.95


def test_list_items_know_the_sentence_that_introduces_their_list() -> None:
    md = ("# Liability\n\nWe try hard. We are not liable for:\n\n- lost profits;\n- lost data.\n\n"
          "That is all.\n\n- a list without a lead-in\n\n## Suspension\n\nWe may suspend you if:\n\n"
          "1. you break the rules\n")
    leads = {c.text: c.lead_in for c in split_clauses(md)}
    assert leads["lost profits;"] == leads["lost data."] == "We are not liable for:"
    assert leads["a list without a lead-in"] == ""  # the paragraph in between ends the list's lead-in
    assert leads["you break the rules"] == "We may suspend you if:"
    assert leads["We are not liable for:"] == leads["That is all."] == ""  # only list items have one


def test_items_of_a_list_written_inline_know_the_words_that_introduce_it() -> None:
    # A list flattened into its paragraph is split at each "; (B)" (found in three terms of service):
    # its items are read like a Markdown list's, after the words before its first enumerator.
    md = ("Intro. ACME IS NOT LIABLE FOR: (A) LOST PROFITS; (B) LOSS OF: DATA; (C) DELAYS. After.\n\n"
          "Your notice must include: (1) your name; (2) your address; and (3) the claim.\n\n"
          "Send it in (2) days; 3) copies are kept. See (a) this; (B) that.\n\n"
          "We may (1) warn you; (3) close your account; (2) or not.\n\n"
          "- You agree (A) to pay; (B) to comply.\n")
    clauses = {c.text: (c.kind, c.lead_in) for c in split_clauses(md)}
    assert clauses["(B) LOSS OF: DATA;"] == clauses["(C) DELAYS."] == ("list-item", "ACME IS NOT LIABLE FOR:")
    assert clauses["ACME IS NOT LIABLE FOR: (A) LOST PROFITS;"] == ("sentence", "")  # the list's first item
    assert clauses["After."] == clauses["Intro."] == ("sentence", "")
    assert clauses["(2) your address; and (3) the claim."] == ("list-item", "Your notice must include:")
    # Not a list: no enumerator before it in the same form, or the count does not go on.
    assert clauses["3) copies are kept."] == clauses["(B) that."] == ("sentence", "")
    assert clauses["(3) close your account;"] == clauses["(2) or not."] == ("sentence", "")
    # Within an item of a Markdown list, its items stay that list's (with its lead-in, here none).
    assert clauses["(B) to comply."] == ("list-item", "")
    # The ids are those of the same sentences outside a list: anchors stay.
    ids = {c.text: c.id for c in split_clauses(md)}
    assert ids["(B) LOSS OF: DATA;"] == split_clauses("(B) LOSS OF: DATA;")[0].id


def test_an_escaped_number_over_a_rule_is_a_heading() -> None:
    """"12\\. Transfers" is no list item (the full stop is escaped), so a rule under it makes it a
    heading, as Markdown renders it; "12. Transfers" over a rule is a list item and a break."""
    escaped = split_clauses("12\\. International transfers\n-------\n\nWe may move your data abroad.\n")
    assert [(c.kind, c.text) for c in escaped] == [("heading", "12. International transfers"),
                                                   ("sentence", "We may move your data abroad.")]
    assert escaped[1].heading == "12. International transfers"
    listed = split_clauses("12. International transfers\n-------\n\nWe may move your data abroad.\n")
    assert listed[0].kind == "list-item"


def quotes_flagged(rule_id: str, doc_type: str, text: str) -> set[str]:
    """The quotes of the committed ruleset's findings of one rule on a text."""
    rules = _ruleset(ROOT / "content").rules
    return {f.quote for f in analyze_markdown(rules, doc_type, text) if f.rule_id == rule_id}


def test_a_table_of_contents_entry_is_never_analysed() -> None:
    """A list item that only links to a section of the page names that section; Bluesky's
    "[INTERNATIONAL TRANSFERS OF PERSONAL INFORMATION](#…)" was flagged as a transfer clause."""
    text = ("Contents:\n\n- [International transfers of personal information](#transfers)\n"
            "- [International data transfers](https://example.org/privacy#international-transfers)\n\n"
            "## International transfers\n\n"
            "We may transfer your information to countries outside the European Economic Area.\n\n"
            "- [Your data is stored on servers located in the United States](https://example.org/hosting).\n")
    clauses = split_clauses(text)
    assert [c.kind for c in clauses] == ["sentence", "contents-entry", "contents-entry", "heading",
                                         "sentence", "list-item"]
    flagged = quotes_flagged("data-transferred-abroad", "privacy-policy", text)
    assert flagged == {"We may transfer your information to countries outside the European Economic Area.",
                       "Your data is stored on servers located in the United States."}


def test_marks_inside_a_link_label_are_stripped_too() -> None:
    # As captured: emphasis inside a link's label, and a label that holds brackets of its own.
    source = ("**NOTE: The section “**[**Settling Disputes**](https://example.com/terms#16)**” holds an "
              "arbitration clause.** Write to [[email protected]](https://example.com/cdn-cgi/l/email-protection).\n")
    first, second = split_clauses(source)
    assert first.text == "NOTE: The section “Settling Disputes” holds an arbitration clause."
    assert second.text == "Write to [email protected]."
    quoted = source[first.start:first.end]
    assert quoted.startswith("NOTE: The section “**[**Settling") and quoted.endswith("clause.")
    assert first.id == clause_id("NOTE: The section **Settling Disputes** holds an arbitration clause")



def test_the_first_row_of_a_table_is_analysed() -> None:
    """An extracted table without <th> cells gets its Markdown rule under its first row of content:
    that row is a provision like the others (found by review: taken for a header, it went unflagged)."""
    text = ("| Termination | We may terminate your account at any time for any reason. |\n|---|---|\n"
            "| Content | We may remove your posts at any time. |\n")
    assert [c.kind for c in split_clauses(text)] == ["table-row", "table-row"]
    rules = _ruleset(ROOT / "content").rules
    assert "terminate-at-will" in {f.rule_id for f in analyze_markdown(rules, "terms-of-service", text)}


def test_a_link_reference_definition_is_no_clause_and_keeps_its_link() -> None:
    """Found by a security review: the clause anchor put in front of "[pp]: https://..." made it
    text, shown on the page, and "[Privacy Policy][pp]" no link."""
    from generator.annotate import annotate

    text = 'See our [Privacy Policy][pp] for details.\n\n[pp]: https://example.com/privacy "Privacy"\n'
    assert [c.text for c in split_clauses(text)] == ["See our [Privacy Policy][pp] for details."]
    html = annotate(text, {}, "https://service.example/terms", {}).html
    assert '<a href="https://example.com/privacy"' in html and "[pp]" not in html
    # Not a definition (text after the target): a clause as any other.
    assert len(split_clauses("[Contact us]: write to us at the address below.\n")) == 1


def test_a_row_of_labels_heading_a_table_is_never_analysed() -> None:
    """Found by review: under Perplexity's "Category of Personal Information | Category of
    Recipients", a second row of column names, "Disclosures for a Business Purpose | Sharing for
    Targeted Advertising", was quoted as a high-severity provision on selling data. Rows of short
    labels at the top of a table (an empty header row over them included) name columns; the rows
    under them, and a row of names and figures, are read."""
    text = ("|   |   |   |\n| --- | --- | --- |\n"
            "| Category of Personal Information | Category of Recipients |   |\n"
            "| Disclosures for a <br>Business Purpose | Sharing for Targeted Advertising |\n"
            "| Identifiers | Service providers. | We share identifiers for targeted advertising. |\n"
            "| Sharing for Targeted Advertising | Sold |\n\n"
            "| Plan | Price |\n|---|---|\n| Free | 0 |\n")
    clauses = split_clauses(text)
    assert [c.kind for c in clauses] == ["table-header", "table-header", "table-row", "table-row",
                                         "table-header", "table-row"]
    flagged = quotes_flagged("sells-or-shares-for-advertising", "privacy-policy", text)
    assert flagged and all(quote.startswith(("Identifiers", "Sharing")) for quote in flagged)
    assert not any(quote.startswith("Disclosures") for quote in flagged)


def test_a_section_title_set_as_bold_text_or_a_list_item_is_never_analysed() -> None:
    """Found by reading every archived finding: Bluesky's "7. INTERNATIONAL TRANSFERS OF PERSONAL
    INFORMATION" (a bold item of a numbered list) and Perplexity's bold "Selling and/or Sharing of
    Personal Information:" were quoted as provisions. A few capitalised words with no sentence's end
    name a section; a sentence, a list's lead-in and a table's row are read as before."""
    text = ("47. **7\\. INTERNATIONAL TRANSFERS OF PERSONAL INFORMATION**\n\n"
            "**Selling and/or Sharing of Personal Information:**\n\n"
            "We may transfer your information to countries outside the European Economic Area.\n\n"
            "We Transfer Your Personal Information Abroad\n")
    assert [c.kind for c in split_clauses(text)] == ["list-item", "sentence", "sentence", "sentence"]
    flagged = quotes_flagged("data-transferred-abroad", "privacy-policy", text)
    assert flagged == {"We may transfer your information to countries outside the European Economic Area."}
    assert not quotes_flagged("sells-or-shares-for-advertising", "privacy-policy", text)
    # A sentence in capitals, ended as one, is read; so is a list's lead-in set in capitals.
    shouting = "WE MAY TRANSFER YOUR PERSONAL INFORMATION TO OTHER COUNTRIES.\n"
    assert quotes_flagged("data-transferred-abroad", "privacy-policy", shouting)
    lead = "WE ARE NOT LIABLE FOR ANY OF THESE LOSSES:\n\n- lost profits;\n- lost data.\n"
    assert quotes_flagged("excludes-liability", "terms-of-service", lead) == {lead.split("\n")[0]}
