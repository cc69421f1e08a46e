"""The form in which rules read a clause. Terms say the same thing in many ways that carry no
meaning for a rule, and a rule written against one of them should match the others: curly or
straight quotes, capitals or not, "won't" or "will not", "4.2" in front or not, "the User" or
"you". Pure; the findings quote the clause as written, never this form.
"""

from __future__ import annotations

import re

# Unicode's default-ignorable code points (soft hyphen, zero-width joiners and spaces, word joiner,
# bidirectional controls, variation selectors, tags): invisible on the page, yet inside a word
# they hide it from every rule: "binding arbi\u2060tration" reads "binding arbitration". The rules
# read English only, where none of them carries meaning.
_IGNORABLE = [0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810),
              *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0x3164,
              *range(0xFE00, 0xFE10), 0xFEFF, 0xFFA0, *range(0xFFF0, 0xFFF9), *range(0x1BCA0, 0x1BCA4),
              *range(0x1D173, 0x1D17B), *range(0xE0000, 0xE1000)]
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "–": "-", "—": "-",
                         **{chr(c): None for c in _IGNORABLE}})


# Closed-class English words: articles, pronouns, prepositions, conjunctions, auxiliaries, modals
# and quantifiers. Case is a signal to a few parts of rules (a place name after "courts of", a
# defined term such as "User Content", a heading in title case), and a passage set in capitals
# erases it: there, these words are lower-cased and every other word capitalised, so those parts
# see the passage as it would read in ordinary case.
_FUNCTION_WORDS = frozenset("""
    a an the
    i me my we us our ours you your yours he him his she her it its they them their theirs
    who whom whose which what that this these those
    about above across after against along among around as at before behind below between beyond
    by despite during except for from in inside into near of off on onto out outside over per
    since through throughout to toward towards under until up upon via with within without
    and or nor but if unless whether because although though while where when whereas so than then
    am is are was were be been being have has had do does did will would shall should may might
    can could must
    any all each every some no not such other both either neither only also more most
""".split())  # noqa: SIM905
_CAPS_WORD = re.compile(r"\b[A-Z][A-Z']*\b")
_CAPS_RUN = re.compile(r"[A-Z]{4}")


def _neutral_case(text: str) -> str:
    """A passage set in capitals, with function words lower-cased and other words capitalised;
    other text unchanged."""
    if not _CAPS_RUN.search(text):  # most text: no run of four capitals, nothing to count
        return text
    upper = sum(c.isupper() for c in text)
    lower = sum(c.islower() for c in text)
    if upper < 12 or lower * 9 > upper:  # short, or not mostly capitals (at most 10% lower case)
        return text
    return _CAPS_WORD.sub(lambda m: m[0].lower() if m[0].lower() in _FUNCTION_WORDS else m[0].capitalize(),
                          text)


# A clause number or list marker opening a clause ("4.2", "12.", "(b)", "iii)", "Section 7.1") is
# not part of its wording: rule parts anchored at the start (^) must see the sentence itself.
_ENUMERATOR = re.compile(
    r"^\W{0,2}(?:(?:section|article|clause|§)\s*\d{1,3}(?:\.\d{1,3})*\.?"
    r"|\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)]|\(\d{1,3}\)"
    r"|\(?[a-z]\)|[a-z]\.|\(?[ivxlc]{1,6}\)|[ivxlc]{1,6}\.)\s+(?=\S)",
    re.IGNORECASE)


# Contractions written out, so that "won't be liable" reads as "will not be liable" and one
# pattern serves plain-language and formal terms alike ('s and 'd are ambiguous: left alone).
_CONTRACTION = re.compile(r"\b(\w+?)n't\b|'(ll|re|ve|m)\b", re.IGNORECASE)
_IRREGULAR = {"wo": "will", "ca": "can", "sha": "shall"}  # the stems of won't, can't, shan't
_SUFFIX = {"ll": " will", "re": " are", "ve": " have", "m": " am"}


def _written_out(m: re.Match[str]) -> str:
    if m[2]:
        return _SUFFIX[m[2].lower()]
    stem = m[1]
    word = _IRREGULAR.get(stem.lower())
    if word is not None:
        stem = word.capitalize() if stem[0].isupper() else word
    return stem + ("not" if stem.lower() == "can" else " not")  # "cannot", as formal terms spell it


# The consumer named in the third person ("the User agrees", "the Customer's account", "Subscriber
# shall") reads as "you", the person rules are written in. Only as the subject of a verb or as a
# possessor: "the user interface", "other users" and "User Content" stay as they are.
_ROLE = r"(?:user|member|customer|subscriber|client|player|consumer|licensee|account\s+holder)"
_BARE_ROLE = r"(?-i:User|Member|Customer|Subscriber|Client|Player|Licensee)"  # a defined term
_MODALS = r"shall|will|would|may|might|must|can|cannot|could|should"
# Verbs of what a party to terms agrees to, declares and does (the plain form, as after "you").
_PARTY_VERBS = (r"agree|acknowledge|accept|understand|represent|warrant|consent|waive|undertake|grant|retain|"
                r"remain|bear|assume|release|continue|confirm|authori[sz]e|hold|need|want|wish|choose|decide|"
                r"live|reside|use|access|visit|leave|delete|create|post|upload|submit|cancel|close|make|provide|"
                r"breach|violate|purchase|order|register|sign|download|install|receive|lose|request|terminate|"
                r"own|keep|share|send|contact|notify|permit|allow|ask")
# ... in the third person singular.
_THIRD_PERSON_VERBS = rf"is|has|does|was|indemnifies|buys|pays|(?:{_PARTY_VERBS})s"
_THIRD_PERSON = re.compile(
    rf"\b(?:(the|this|such)\s+{_ROLE}|{_BARE_ROLE})"
    rf"(?:'s\b|(\s+)({_MODALS}|{_THIRD_PERSON_VERBS})\b)", re.IGNORECASE)
# A bare defined term is the subject only where a clause starts ("a Member may" is not "you may");
# checked on the text before the match, which is cheaper than a lookbehind at every position.
_CLAUSE_START = re.compile(r"(?:^|[,;:(] |\b(?:and|or|that|if) )$")
_ROLE_WORDS = ("user", "member", "customer", "subscriber", "client", "player", "consumer", "licensee",
               "holder")  # a quick test before the regex: most clauses name no role
_MODAL_WORDS = frozenset(_MODALS.split("|"))
_SECOND_PERSON_VERB = {"is": "are", "has": "have", "does": "do", "was": "were"}


def _second_person(m: re.Match[str]) -> str:
    if m[1] is None and not _CLAUSE_START.search(m.string[max(0, m.start() - 5):m.start()]):
        return m[0]
    you = "You" if m.start() == 0 else "you"
    if m[3] is None:  # a possessive
        return you + "r"
    verb = m[3]
    lowered = verb.lower()
    if lowered in _MODAL_WORDS:
        pass
    elif lowered in _SECOND_PERSON_VERB:
        verb = _SECOND_PERSON_VERB[lowered]
    elif lowered.endswith("ies"):
        verb = verb[:-3] + "y"
    else:
        verb = verb[:-1]
    return f"{you}{m[2]}{verb}"


# The consumers in the plural ("Users may cancel", "if users do not pay") are "you" as well, as the
# subject of a verb, whose plural form is the one "you" takes; "other users", "third-party users" and
# "users of ..." are someone else and stay, and so does "users' content" (whose, is not clear).
_PLURAL_ROLE = r"(?:users|members|customers|subscribers|clients|players|consumers|account\s+holders)"
_PLURAL_VERBS = rf"are|have|do|were|{_PARTY_VERBS}"
_PLURAL = re.compile(
    rf"\b(?:the\s+)?{_PLURAL_ROLE}(?=\s+(?:also\s+|further\s+)?(?:{_MODALS}|{_PLURAL_VERBS})\b)",
    re.IGNORECASE)
_SOMEONE_ELSE = re.compile(r"\b(?:other|another|third[- ]party|third\s+party|those|some|certain|many|fellow|"
                           r"such|these|between|among|to|with|from|by|for|of)\s+$", re.IGNORECASE)


def same_case(model: str, word: str) -> str:
    """`word` with the initial capital of `model`, for a word read (or written) in place of another."""
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


_THEIR = re.compile(r"\b(?:[Tt]heir|[Tt]heirs|[Tt]hemselves)\b")
_YOURS = {"their": "your", "theirs": "yours", "themselves": "yourselves"}


def _your(m: re.Match[str]) -> str:
    return same_case(m[0], _YOURS[m[0].lower()])


def _plural_second_person(m: re.Match[str]) -> str:
    if _SOMEONE_ELSE.search(m.string[max(0, m.start() - 14):m.start()]):
        return m[0]
    return "You" if m[0][0].isupper() else "you"


# A lead-in that frames a clause without changing what it says ("Please note that", "You
# acknowledge and agree that"): taken off, so the clause reads from its own subject. "You agree
# that ..." stays: agreeing can itself be what a rule looks for.
_LEAD_IN = re.compile(
    r"^(?:(?:please\s+)?(?:note|be\s+aware|remember|understand)\s+that|for\s+the\s+avoidance\s+of\s+doubt,?"
    r"|in\s+particular,?|you\s+(?:hereby\s+|expressly\s+|further\s+|also\s+)?(?:acknowledge|understand|accept)"
    r"(?:\s+and\s+(?:agree|accept|acknowledge|understand))?\s+that)\s+(?=\S)",
    re.IGNORECASE)


def _without_lead_in(text: str) -> str:
    rest = _LEAD_IN.sub("", text, count=1)
    return text if rest == text else rest[:1].upper() + rest[1:]


# An aside between commas next to a modal ("Acme may, in its sole discretion and without notice
# to you, terminate ...", "Acme, at its discretion, may ...", "Acme reserves the right, at any
# time, to ...") is moved to the end of the sentence: the verb then follows its modal however long
# the aside is, and what the aside says still counts.
_ASIDE_TEXT = r",\s*(?P<aside>[^,.;:]{3,200}?),\s*"
# A relative clause may hold a list of its own ("Updates, which may add, remove or alter features, will
# be installed"): it runs to the comma before the modal, so a list item is not taken for the aside.
_RELATIVE_ASIDE_TEXT = (r",\s*(?P<aside>(?:which|who)\b[^,.;:]{3,120}"
                        r"(?:,(?!\s*(?:and|but|or|nor|not)\b)\s*[^,.;:]{1,80}){0,2}?),\s*")
# "reserves/retains" as the verb after an aside only with its object ("Acme, at its discretion, retains the
# right"): in "the Subscriber authorises Acme to collect, retain and transfer" it is one verb of a list.
_RESERVES = r"(?:reserves?|retains?)\s+(?:the|all|any|its|sole)"
_ASIDES = [re.compile(pattern, re.IGNORECASE) for pattern in [
    rf"\b(?P<keep>{_MODALS}|(?:right|entitled|free)\s+to){_ASIDE_TEXT}(?=[A-Za-z])",
    rf"\b(?P<keep>(?:reserves?|retains?|has|have)\s+the\s+right){_ASIDE_TEXT}(?P<next>to\s)",
    rf"(?P<keep>\w){_RELATIVE_ASIDE_TEXT}(?=(?:{_MODALS}|{_RESERVES})\b)",
    rf"(?P<keep>\w){_ASIDE_TEXT}(?=(?:{_MODALS}|{_RESERVES})\b)",
]]
_SENTENCE_END = re.compile(r"[\s.;:!?]*$")
# Stock adverbials written straight after a modal or "the right to", without commas ("Acme may at any
# time and from time to time, in its sole discretion, change ..."): moved to the end the same way.
_ADVERBIAL = (r"(?:at\s+any\s+(?:time|moment)|from\s+time\s+to\s+time|(?:at|in)\s+(?:its|our|their)\s+"
              r"(?:sole\s+|absolute\s+|own\s+|reasonable\s+)*discretion|without\s+(?:prior\s+|advance\s+|"
              r"further\s+)?notice(?:\s+to\s+you)?|with\s+or\s+without\s+(?:notice|cause)|temporarily\s+or\s+"
              r"permanently)")
_ADVERBIALS = re.compile(rf"\b(?P<keep>{_MODALS}|(?:right|entitled)\s+to)\s+"
                         rf"(?P<aside>{_ADVERBIAL}(?:,?\s+(?:and|or)\s+{_ADVERBIAL})*)(?=\s*,?\s*[A-Za-z])",
                         re.IGNORECASE)
# After such a run, a comma either opens another aside ("may at any time, in its discretion, close")
# or only closes the run ("may at any time, close").
_OPENS_ASIDE = re.compile(r",\s*(?:in|at|with|without|subject|where|when|if|as|for|upon|on|acting|under|by|"
                          r"unless|except|including|to|from|even|after|before|and|but)\b", re.IGNORECASE)


# Where an aside can start or end at all: one quick scan before the three searches.
_ASIDE_HINT = re.compile(
    rf"\b(?:{_MODALS}|to|right),|,\s*(?:{_MODALS}|reserves?|retains?)\b", re.IGNORECASE)


def _adverbials_last(text: str) -> str:
    lowered = text.lower()  # every stock adverbial has one of these words: a cheap test first
    if not any(word in lowered for word in ("time", "discretion", "notice", "cause", "temporarily")):
        return text
    m = _ADVERBIALS.search(text)
    if m is None:
        return text
    rest = text[m.end():].lstrip(" ")
    if rest.startswith(",") and not _OPENS_ASIDE.match(rest):
        rest = rest[1:].lstrip(" ")
    end = _SENTENCE_END.search(rest)
    cut = end.start() if end else len(rest)
    space = "" if rest.startswith(",") else " "
    return f"{text[:m.end('keep')]}{space}{rest[:cut]}, {m['aside']}{rest[cut:]}"


def _asides_last(text: str) -> str:
    if not _ASIDE_HINT.search(text):
        return text
    for _ in range(3):  # "we may, ..., remove content, and we may, ..., close accounts"
        found = [m for m in (aside.search(text) for aside in _ASIDES) if m is not None]
        if not found:
            break
        m = min(found, key=lambda m: m.start())
        rest = text[m.end():]
        end = _SENTENCE_END.search(rest)
        cut = end.start() if end else len(rest)
        after = m.groupdict().get("next") or ""  # "to" of "the right, ..., to"
        text = f"{text[:m.end('keep')]} {after}{rest[:cut]}, {m['aside']}{rest[cut:]}"
    return text


# The full stops of abbreviations ("Acme Ltd.", "Acme U.S. LLC", "e.g.") are not ends of sentences,
# but rules read "." as one: taken out, so "Acme Ltd. may close" reads as "Acme may close" does and
# a rule's window does not stop at "e.g."; nor is the comma of "Acme, Inc." a break in the sentence.
_ABBREVIATION = re.compile(r"\b(?:(?:[A-Za-z]\.){2,}"
                           r"|(?:Inc|Ltd|Co|Corp|Pty|Pte|Plc|etc|approx|No|Nos|Art|Sec|cf|vs)\.)(?=[\s,;:)']|$)")


def _without_dots(m: re.Match[str]) -> str:
    return m[0].replace(".", "")


_COMPANY_SUFFIX = re.compile(
    r",\s+(?=(?:Inc|LLC|L\.L\.C|Ltd|Limited|Corp|Co|GmbH|AG|S\.?A|B\.?V|N\.?V|Plc|Pty)\b)")


# "Acme is (also) free (allowed, permitted) to close ..." says what "Acme may close ..." says, in the
# words rules look for.
_FREE_TO = re.compile(r"\b(?:is|are|shall\s+be|will\s+be)\s+(?:also\s+|always\s+)?"
                      r"(?:free|at\s+liberty|allowed|permitted)\s+to\b", re.IGNORECASE)
# "might" grants or warns as "may" does in terms ("we might suspend your account"): read as "may", so
# the exceptions written for "you may cancel" apply to "you might cancel" too.
_MIGHT = re.compile(r"\b(?:M|m)ight\b")
# "can not" is "cannot", as "can't" already reads.
_CAN_NOT = re.compile(r"\b(?:C|c)an\s+not\b")


# To "end" an account, an agreement or access is to terminate it, as plain terms say it: read so, and
# every rule about termination reads both ("end all of your accounts"; not "the end user licence").
_END = re.compile(
    r"(?<!\bthe )(?<!\ban )(?<!\ba )\bend(s|ed|ing)?(?=\s+(?:(?:or|and)\s+\w+\s+)?(?:all\s+of\s+)?"
    r"(?:(?:your|their|the|this|these|any|all|our|its)\s+(?:[\w-]+\s+){0,2})?(?:accounts|privileges|"
    r"(?<=\s)(?:account|access|agreements?|subscriptions?|relationship|membership|contract|"
    r"privilege|terms|services?|app|platform))\b)", re.IGNORECASE)
_END_HINT = re.compile(r"\bend", re.IGNORECASE)
_TERMINATE = {None: "terminate", "s": "terminates", "ed": "terminated", "ing": "terminating"}


def _terminate(m: re.Match[str]) -> str:
    return same_case(m[0], _TERMINATE[m[1]])


# Terms translated from French, Italian or Spanish keep the original's turns ("à tout moment", "les
# présentes CGU", "se réserve la faculté de"): read them in the words rules look for. Each reading has a
# word it needs, tested as a plain substring first, which most clauses fail quickly.
# (Data "treated" is processed; a person treated fairly is not.)
_NATIONALITIES = ("French|Dutch|German|Italian|Spanish|Portuguese|Belgian|Swiss|Austrian|Luxembourg(?:ish)?"
                  "|Irish|Polish|Czech|Slovak|Swedish|Danish|Finnish|Estonian|Latvian|Lithuanian|Greek"
                  "|Romanian|Hungarian|Bulgarian|Croatian|Slovenian|Maltese|Cypriot|Monegasque|Norwegian")
_DATA_FOLLOWS = (r"(?=(?:the|your|his|her|their|its|such|these|those)\s+(?:[\w-]+\s+){0,3}"
                 r"(?:data|information)\b)")
_TRANSLATED = (
    ("moment", re.compile(r"\b(?:at|in)\s+(?:any|every)\s+moment\b", re.IGNORECASE), "at any time"),
    ("treat", re.compile(r"\btreatment\s+of\b", re.IGNORECASE), "processing of"),
    ("treat", re.compile(r"\b(be|been|are|is|being|were|was)\s+treated\b"
                         r"(?!\s+(?:as|like|with|fairly|equally|confidential))", re.IGNORECASE),
     r"\1 processed"),
    ("treat", re.compile(r"\btreats\s+" + _DATA_FOLLOWS, re.IGNORECASE), "processes "),
    ("treat", re.compile(r"\btreat(ed|ing)?\s+" + _DATA_FOLLOWS, re.IGNORECASE), r"process\1 "),
    ("finalit", re.compile(r"\bfinalit(?:y|ies)\b", re.IGNORECASE), "purpose"),
    ("profilation", re.compile(r"\bprofilation\b", re.IGNORECASE), "profiling"),
    ("addestration", re.compile(r"\baddestration\b", re.IGNORECASE), "training"),
    ("utili", re.compile(r"\butili[sz](e|es|ed|ing)\b", re.IGNORECASE), r"us\1"),
    ("reserve", re.compile(r"\breserves?\s+(?:us|ourselves|itself)\s+the\s+right\b", re.IGNORECASE),
     "reserve the right"),
    ("present", re.compile(r"\b(?:the\s+)?present\s+"
                           r"(?=(?:general\s+)?(?:terms|conditions|CG[UV]|rules)\b)",
                           re.IGNORECASE), "these "),
    ("present", re.compile(r"\b(?:the\s+)?present\s+(?=(?:agreement|contract)\b)", re.IGNORECASE), "this "),
    ("cg", re.compile(r"\bCG[UV]\b", re.IGNORECASE), "Terms"),
    ("faculty", re.compile(r"\b(reserves?|retains?|has|have)\s+(?:(?:it|him|her)self\s+)?"
                           r"the\s+faculty\s+to\b", re.IGNORECASE), r"\1 the right to"),
    ("application", re.compile(r"\b(shall|will)\s+find\s+application\b", re.IGNORECASE), r"\1 apply"),
    ("adhesion", re.compile(r"\badhesion\s+(?:to|of)\b", re.IGNORECASE), "acceptance of"),
    ("adhesion", re.compile(r"\badhesion\b", re.IGNORECASE), "acceptance"),
    ("utili", re.compile(r"\butili[sz]ation\b", re.IGNORECASE), "use"),
    ("internaut", re.compile(r"\binternaut(?:e|es|s)?\b", re.IGNORECASE), "user"),
    ("vigo", re.compile(r"\bin\s+vigou?r\b", re.IGNORECASE), "in force"),
    ("conformity", re.compile(r"\bin\s+conformity\s+with\b", re.IGNORECASE), "in accordance with"),
    # The law of a country named as its "right" (droit, recht, diritto), a "legislation", a law that
    # "regulates" or to which the terms are "subordinated", a law "applicable to" the contract.
    ("right", re.compile(r"\b(" + _NATIONALITIES + r")\s+right\b", re.IGNORECASE), r"\1 law"),
    ("legislation", re.compile(r"\blegislation\b", re.IGNORECASE), "law"),
    ("regulated", re.compile(r"\bregulated\s+(?:by|from)\s+(?=(?:the\s+)?(?:[\w-]+\s+){0,2}(?:law|right)\b)",
                             re.IGNORECASE), "governed by "),
    ("subordinated", re.compile(r"\bsubordinated\s+to\s+(?=(?:the\s+)?(?:[\w-]+\s+){0,3}law\b)",
                                re.IGNORECASE), "governed by "),
    ("applicable", re.compile(r"\bis\s+applicable\s+to\b", re.IGNORECASE), "applies to"),
    ("applicable", re.compile(r"\bare\s+applicable\s+to\b", re.IGNORECASE), "apply to"),
    # Courts named as tribunals or judges, disputes as litigations (not an arbitral tribunal).
    ("tribunal", re.compile(r"(?<!arbitral\s)(?<!arbitration\s)\btribunal(s?)\b", re.IGNORECASE),
     r"court\1"),
    ("judges", re.compile(r"\bthe\s+judges\s+of\b", re.IGNORECASE), "the courts of"),
    ("litigations", re.compile(r"\blitigations\b", re.IGNORECASE), "disputes"),
    # Acceptance and liability: "is considered to have accepted", "adhering to these conditions",
    # "is not to be held responsible", "cannot be called in responsibility".
    ("considered", re.compile(r"\b(is|are|shall\s+be|will\s+be)\s+considered\s+to\s+have\b",
                              re.IGNORECASE), r"\1 deemed to have"),
    ("adhering", re.compile(r"\badhering\s+to\s+(?=(?:these|the|this)\s+(?:\w+\s+)?"
                            r"(?:terms|conditions|agreement|contract)\b)", re.IGNORECASE), "accepting "),
    ("to be held", re.compile(r"\b(?:is|are|am)\s+not\s+to\s+be\s+held\b", re.IGNORECASE),
     "shall not be held"),
    ("called in", re.compile(r"\bcalled\s+in(?:to)?\s+(?:responsibility|liability)\b", re.IGNORECASE),
     "held responsible"),
    # Changes "brought" to the terms; "it belongs to the Company to revise" (it is for it to); "the
    # present text".
    ("bring", re.compile(r"\bbring\s+((?:\w+\s+)?)(changes|modifications|amendments)\s+to\b",
                         re.IGNORECASE), r"make \1\2 to"),
    ("belongs", re.compile(r"\bit\s+belongs\s+to\s+(the\s+[\w-]+)\s+to\b", re.IGNORECASE), r"\1 may"),
    ("present", re.compile(r"\bthe\s+present\s+(text|document)\b", re.IGNORECASE), r"this \1"),
    # Data "elaborated" (elaborare, elaborar): processed.
    ("elaborat", re.compile(r"\belaborates\s+" + _DATA_FOLLOWS, re.IGNORECASE), "processes "),
    ("elaborat", re.compile(r"\belaborated\s+" + _DATA_FOLLOWS, re.IGNORECASE), "processed "),
    ("elaborat", re.compile(r"\belaborating\s+" + _DATA_FOLLOWS, re.IGNORECASE), "processing "),
    ("elaborat", re.compile(r"\belaborate\s+" + _DATA_FOLLOWS, re.IGNORECASE), "process "),
    ("elaborat", re.compile(r"\b(are|is|be|been|being)\s+elaborated\b", re.IGNORECASE), r"\1 processed"),
    ("elaborat", re.compile(r"\belaboration\s+of\s+" + _DATA_FOLLOWS, re.IGNORECASE), "processing of "),
    # Arbitration as "arbitrage", arbitrators as "arbiters"; "hold unharmed" for hold harmless; a
    # licence "conceded"; "responsible of"; "comes not to be"; "keeps for itself the possibility to".
    ("arbitrag", re.compile(r"\b(through|by|to|via|in|of)\s+arbitrage\b", re.IGNORECASE), r"\1 arbitration"),
    ("arbiter", re.compile(r"\barbiters\b", re.IGNORECASE), "arbitrators"),
    ("arbiter", re.compile(r"\barbiter\b", re.IGNORECASE), "arbitrator"),
    ("unharmed", re.compile(r"\bhold(s|ing)?\s+unharmed\b", re.IGNORECASE), r"hold\1 harmless"),
    ("conced", re.compile(r"\bconcedes\b(?=[^.;]{0,60}\blicen[cs]e)", re.IGNORECASE), "grants"),
    ("conced", re.compile(r"\bconceded\b(?=[^.;]{0,60}\blicen[cs]e)", re.IGNORECASE), "granted"),
    ("conced", re.compile(r"\bconceding\b(?=[^.;]{0,60}\blicen[cs]e)", re.IGNORECASE), "granting"),
    ("conced", re.compile(r"\bconcede\b(?=[^.;]{0,60}\blicen[cs]e)", re.IGNORECASE), "grant"),
    ("responsible of", re.compile(r"\b(responsible|liable)\s+of\b", re.IGNORECASE), r"\1 for"),
    ("comes not", re.compile(r"\bcomes?\s+not\s+to\s+be\b", re.IGNORECASE), "is not"),
    ("for itself", re.compile(r"\bkeeps?\s+for\s+(?:itself|himself|herself|themselves)\s+the\s+"
                              r"(?:possibility|faculty|right)\s+to\b", re.IGNORECASE),
     "reserves the right to"),
)


def _read_translated(text: str) -> str:
    lowered = text.lower()
    for hint, pattern, replacement in _TRANSLATED:
        if hint in lowered:
            def expanded(m: re.Match[str], replacement: str = replacement) -> str:
                return same_case(m[0], m.expand(replacement))
            text = pattern.sub(expanded, text)
    return text


def prepare(text: str) -> str:
    """The form rules see: straight quotes, plain dashes, single spaces, capitals in neutral case,
    contractions written out, abbreviations without full stops, an aside next to a modal moved to
    the end, "is free (allowed, permitted) to" and "might" as "may", "can not" as "cannot", "end your
    account" as "terminate your account", the turns of translated terms ("at any moment", "the present
    CGU", "reserves the faculty to") as English terms say them, no clause number or lead-in in front,
    the consumer as "you"."""
    text = _neutral_case(" ".join(text.translate(_QUOTES).split()))
    if "'" in text:  # the cheap test first: most clauses have no apostrophe and no role word
        text = _CONTRACTION.sub(_written_out, text)
    if "." in text[:-1]:  # a full stop before the end: most clauses have only the one that ends them
        text = _ABBREVIATION.sub(_without_dots, text)
    text = _adverbials_last(text)
    if "," in text:  # "Acme, Inc." is one name, "Acme Inc"; then the asides
        text = _asides_last(_COMPANY_SUFFIX.sub(" ", text))
    if " to " in text:
        text = _FREE_TO.sub("may", text)
    if "ight" in text:
        text = _MIGHT.sub(lambda m: same_case(m[0], "may"), text)
    if "an not" in text:
        text = _CAN_NOT.sub(lambda m: same_case(m[0], "cannot"), text)
    text = _read_translated(text)
    if _END_HINT.search(text):  # the full pattern only where a word starts with "end"
        text = _END.sub(_terminate, text)
    text = _without_lead_in(_ENUMERATOR.sub("", text, count=1))
    lowered = text.lower()
    if not any(w in lowered for w in _ROLE_WORDS):  # most clauses name no role
        return text
    text = _THIRD_PERSON.sub(_second_person, text)
    read = _PLURAL.sub(_plural_second_person, text)
    # Where the consumers are the subject, "their" is theirs: "Users may cancel their plan".
    return read if read == text else _THEIR.sub(_your, read)
