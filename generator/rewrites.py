"""Rewrites of a sentence that keep its meaning, the ways other companies' terms say the same thing:
in capitals, with contractions, with a clause number or "Please note that" in front, with "the
user" for "you", with the terms called "this Agreement", with "the app" for "the Service" and back,
with a long aside after a modal ("may, where appropriate ..., close"), with "is free to" for "may",
with the company named ("Acme, Inc. may") where it says "we", with "users" for "you", with other
words for the same act or thing ("delete" for "remove"). Rules should
read every one as they read the original (`rules eval --rewrite`, and the tests on every rule
example). Pure and mechanical: a rewrite may leave a verb unagreed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from .wording import same_case

_CONTRACTIONS = [(re.compile(rf"\b[{long[0]}{long[0].upper()}]{long[1:]}\b"), short) for long, short in [
    ("will not", "won't"), ("cannot", "can't"), ("do not", "don't"), ("does not", "doesn't"),
    ("is not", "isn't"), ("are not", "aren't"), ("should not", "shouldn't"), ("would not", "wouldn't"),
    ("have not", "haven't"), ("we will", "we'll"), ("you will", "you'll"), ("we are", "we're"),
    ("you are", "you're"), ("we have", "we've")]]
_AGREEMENT = {"are": "is", "have": "has", "do": "does", "were": "was"}
_MODALS = ["may", "must", "shall", "will", "can", "cannot", "should", "might", "could", "would"]
_AGREEING = ["agree", "acknowledge", "accept", "understand", "grant", "waive", "consent", "represent",
             "warrant", "use", "own", "retain", "remain", "live", "reside", "leave", "access", "visit",
             "delete", "create", "post", "upload", "submit", "cancel", "close", "make", "provide", "breach",
             "violate", "purchase", "buy", "order", "register", "download", "install", "receive", "lose",
             "pay", "request", "ask", "choose", "decide", "wish", "want", "need", "continue", "keep", "share",
             "send", *_MODALS]
_YOU_AS_SUBJECT = re.compile(rf"\b(You|you) ({'|'.join([*_AGREEMENT, *_AGREEING])})\b")


def _in_case_of(word: str, match: re.Match[str]) -> str:
    return same_case(match[0], word)


def capitals(sentence: str) -> str:
    return sentence.upper()


def contractions(sentence: str) -> str:
    for long, short in _CONTRACTIONS:
        sentence = long.sub(partial(_in_case_of, short), sentence)
    return sentence


def numbered(sentence: str) -> str:
    return f"4.2 {sentence}"


def lead_in(sentence: str) -> str:
    """"Please note that ..." before a sentence that starts with a capital (not a word in capitals)."""
    if not sentence[:1].isupper() or sentence[:2].isupper() or sentence.startswith("I "):
        return sentence
    return f"Please note that {sentence[0].lower()}{sentence[1:]}"


def third_person(sentence: str) -> str:
    def subject(m: re.Match[str]) -> str:
        verb = m[2]
        verb = _AGREEMENT.get(verb) or (verb if verb in _MODALS else verb + "s")
        return f"{same_case(m[1], 'the user')} {verb}"

    sentence = _YOU_AS_SUBJECT.sub(subject, sentence)
    sentence = re.sub(r"\b(Y|y)our\b", lambda m: same_case(m[0], "the user's"), sentence)
    return re.sub(r"\b(Y|y)ou\b", lambda m: same_case(m[0], "the user"), sentence)


# The terms by another name: "these Terms (of Use)" become "this Agreement", with the verb agreeing.
_THESE_TERMS = re.compile(r"\b(these|the|our)\s+terms(?:\s+(?:of\s+(?:service|use)|and\s+conditions))?"
                          r"(?:\s+(are|apply|govern|have|were|form|constitute|contain)\b)?", re.IGNORECASE)


def _this_agreement(m: re.Match[str]) -> str:
    determiner = same_case(m[1], "this" if m[1].lower() == "these" else m[1].lower())
    noun = "Agreement" if m[0].split()[1][0].isupper() else "agreement"
    verb = m[2] and " " + (_AGREEMENT.get(m[2].lower()) or re.sub("y$", "ie", m[2]) + "s")
    return f"{determiner} {noun}{verb or ''}"


def agreement(sentence: str) -> str:
    return _THESE_TERMS.sub(_this_agreement, sentence)


# The service by another name: "the Service(s)", "the Site", "the Website" and "the Platform" become
# "the App(s)", and "the app(s)" becomes "the service(s)"; "Terms of Service", "customer service"
# and "service provider" stay.
_OFFERING = re.compile(r"\b(?<!terms of )(?<!customer )(services?|site|website|platform|apps?)\b"
                       r"(?!\s+providers?\b)", re.IGNORECASE)
_OTHER_NAME = {"services": "apps", "apps": "services", "app": "service"}


def _other_name(m: re.Match[str]) -> str:
    return same_case(m[1], _OTHER_NAME.get(m[1].lower(), "app"))


def offering(sentence: str) -> str:
    return _OFFERING.sub(_other_name, sentence)


# A long aside after the first modal, as formal terms write them: "Acme may, where appropriate in
# the circumstances of the case, close ...", "Acme reserves the right, where appropriate ..., to".
_FIRST_MODAL = re.compile(r"\b(?:(may|will|shall|can|must) (?!not\b|be\b)|(reserves? the right) to )")
_ASIDE = "where appropriate in the circumstances of the case"


def _with_aside(m: re.Match[str]) -> str:
    return f"{m[1]}, {_ASIDE}, " if m[1] else f"{m[2]}, {_ASIDE}, to "


def aside(sentence: str) -> str:
    return _FIRST_MODAL.sub(_with_aside, sentence, count=1)


# Permission in other words: "Acme may close ..." as "Acme is free to close ...".
_MAY = re.compile(r"\b(we|you|they|[A-Z][\w&.-]*) may (?!not\b|be\b)", re.IGNORECASE)


def _free_to(m: re.Match[str]) -> str:
    return f"{m[1]} {'are' if m[1].lower() in ('we', 'you', 'they') else 'is'} free to "


def free_to(sentence: str) -> str:
    return _MAY.sub(_free_to, sentence, count=1)


# The company by its name, as a company name is written: "Acme, Inc. may", "Acme, Inc.'s".
_COMPANY = "Acme, Inc."
_COMPANY_VERBS = [*_AGREEING, "reserve", "collect", "process", "terminate", "suspend", "remove", "modify",
                  "change", "update", "revise", "amend", "disclose", "store", "review", "monitor", "improve"]
_WE_VERBS = "|".join(sorted({*_AGREEMENT, *_COMPANY_VERBS}, key=len, reverse=True))
_WE_AS_SUBJECT = re.compile(rf"\b(?:We|we) ({_WE_VERBS})\b")


def _company_verb(m: re.Match[str]) -> str:
    verb = m[1]
    return f"{_COMPANY} {_AGREEMENT.get(verb) or (verb if verb in _MODALS else verb + 's')}"


def company(sentence: str) -> str:
    sentence = _WE_AS_SUBJECT.sub(_company_verb, sentence)
    sentence = re.sub(r"\b(?:O|o)ur\b", f"{_COMPANY}'s", sentence)
    return re.sub(r"\b(?:We|we|Us|us)\b", _COMPANY, sentence)


# The consumers in the plural: "Users may cancel their plan" for "You may cancel your plan".
_YOU_PLURAL = {"you": "users", "your": "their", "yours": "theirs", "yourself": "themselves",
               "yourselves": "themselves"}
_YOU_WORD = re.compile(r"\b(?:[Yy]ou|[Yy]our|[Yy]ours|[Yy]ourself|[Yy]ourselves)\b")


def users(sentence: str) -> str:
    return _YOU_WORD.sub(lambda m: same_case(m[0], _YOU_PLURAL[m[0].lower()]), sentence)


# Other words for the same act or thing: "delete" for "remove", "amend" for "modify", "material" for
# "content", "subject to" for "governed by" (each way the word is written, in the case it is written).
_SYNONYMS = [(re.compile(rf"\b{a}\b", re.IGNORECASE), b) for a, b in [
    ("remove", "delete"), ("removed", "deleted"), ("removing", "deleting"), ("modify", "amend"),
    ("modified", "amended"), ("content", "material"), ("governed by", "subject to")]]


def _as_written(word: str, match: re.Match[str]) -> str:
    return word.upper() if match[0].isupper() and len(match[0]) > 1 else same_case(match[0], word)


def synonyms(sentence: str) -> str:
    for word, other in _SYNONYMS:
        sentence = word.sub(partial(_as_written, other), sentence)
    return sentence


REWRITES: dict[str, Callable[[str], str]] = {
    "capitals": capitals, "contractions": contractions, "numbered": numbered, "lead-in": lead_in,
    "third-person": third_person, "agreement": agreement, "offering": offering,
    "aside": aside, "free-to": free_to, "company": company, "users": users, "synonyms": synonyms,
}
