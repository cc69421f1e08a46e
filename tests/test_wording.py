"""The form in which rules read a clause: the same wording however a company prints it."""

from __future__ import annotations

import pytest

from generator.wording import prepare


@pytest.mark.parametrize(("text", "read_as"), [
    # Quotes, dashes and spaces.
    ("“Terms” – ‘quoted’\u00a0text", "\"Terms\" - 'quoted' text"),
    # Capitals: function words lower-case, other words capitalised, so a place name still looks like
    # one and "THE" after "COURTS OF" no longer does.
    ("THESE TERMS ARE GOVERNED BY THE LAWS OF THE STATE OF CALIFORNIA.",
     "these Terms are Governed by the Laws of the State of California."),
    ("ACME'S LIABILITY TO YOU IS LIMITED (SEE SECTION 9).",
     "Acme's Liability to you is Limited (See Section 9)."),
    # Contractions written out.
    ("We won’t be liable, and Acme isn’t responsible; you can’t sue.",
     "We will not be liable, and Acme is not responsible; you cannot sue."),
    ("We’ll close it if you’re late, and we’ve said so; Shan’t.",
     "We will close it if you are late, and we have said so; Shall not."),
    # A clause number or list marker in front.
    ("4.2 You may not copy the app.", "You may not copy the app."),
    ("(b) any loss of profits", "any loss of profits"),
    ("Section 7.1 You may cancel.", "You may cancel."),
    # A lead-in that frames the clause.
    ("Please note that we may suspend your account.", "We may suspend your account."),
    ("You acknowledge and agree that Acme is not liable for lost data.", "Acme is not liable for lost data."),
    # The consumer in the third person, as subject or possessor.
    ("The User agrees that Acme may close the Customer's account.",
     "You agree that Acme may close your account."),
    ("Subscriber is solely responsible, and the Member has no claim.",
     "You are solely responsible, and you have no claim."),
    # An aside after a modal, moved to the end: the verb follows its modal, the aside still counts.
    ("Acme may, in its sole discretion and without any notice to you, terminate your account.",
     "Acme may terminate your account, in its sole discretion and without any notice to you."),
    ("Acme, at its sole discretion and without notice, may close your account.",
     "Acme may close your account, at its sole discretion and without notice."),
    ("Acme reserves the right, at any time and for any reason, to remove posts",
     "Acme reserves the right to remove posts, at any time and for any reason"),
    ("We shall be entitled to, without notice, suspend your account.",
     "We shall be entitled to suspend your account, without notice."),
    ("Acme, at its sole discretion, retains the right to close accounts.",
     "Acme retains the right to close accounts, at its sole discretion."),
    # "retain" as one verb of a list is no modal: the words before it are no aside.
    ("In agreeing to these terms, the Member authorises Acme to collect, retain and share the data.",
     "In agreeing to these terms, you authorise Acme to collect, retain and share the data."),
    # A relative clause that holds a list of its own moves whole, not from its list's first comma;
    # one that runs into a new clause (", and ...") is not taken for an aside.
    ("Firmware updates, which may add, remove or alter features, will be installed automatically.",
     "Firmware updates will be installed automatically, which may add, remove or alter features."),
    ("Fees, which may change, will be listed.", "Fees will be listed, which may change."),
    ("Either party may arbitrate, which is the only way, and the arbitrator, not a court, shall decide.",
     "Either party may arbitrate, which is the only way, and the arbitrator shall decide, not a court."),
    # Stock adverbials straight after a modal, without commas, moved the same way; a comma after
    # them opens another aside or only closes the run.
    ("We may at any time and from time to time, in our sole discretion, change the fees.",
     "We may change the fees, at any time and from time to time, in our sole discretion."),
    ("Acme may at its sole discretion and without notice terminate your account.",
     "Acme may terminate your account, at its sole discretion and without notice."),
    ("Acme may at any time, close your account.", "Acme may close your account, at any time."),
    ("We reserve the right to at any time change the fees.",
     "We reserve the right to change the fees, at any time."),
    # The consumers in the plural, as subject; other users stay.
    ("Users may cancel, unless users do not pay; other users may see it.",
     "You may cancel, unless you do not pay; other users may see it."),
    # ... and then "their" is theirs.
    ("Users may cancel their plan, and Acme may close their accounts.",
     "You may cancel your plan, and Acme may close your accounts."),
    # Abbreviations: their full stops do not end the sentence, and "Acme, Inc." is one name.
    ("Acme, Inc. and Acme U.S. LLC may close accounts (e.g. idle ones).",
     "Acme Inc and Acme US LLC may close accounts (eg idle ones)."),
    ("U.S. law applies.", "US law applies."), ("e.g. a photo you upload", "eg a photo you upload"),
    # Company forms of mixed case: "Viaggilo S.r.l.", "Ferrovia S.p.A.", "Veloxa a.s.".
    ("Use of Viaggilo S.r.l. and Ferrovia S.p.A. sites implies acceptance.",
     "Use of Viaggilo Srl and Ferrovia SpA sites implies acceptance."),
    # The turns of terms translated from French, Italian or Spanish, in the words English terms use.
    ("The Editor reserves itself the faculty to modify at any moment the present CGU.",
     "The Editor reserves the right to modify at any time these Terms."),
    ("THE PRESENT GENERAL CONDITIONS ARE SUBJECT TO FRENCH LAW.",
     "these General Conditions are Subject to French Law."),
    ("Only the law of Monaco shall find application.", "Only the law of Monaco shall apply."),
    ("The Club treats the data of members; your data will be treated for the finality of profilation.",
     "The Club processes the data of members; your data will be processed for the purpose of profiling."),
    ("We treat you fairly; refusal will be treated as cancellation.",
     "We treat you fairly; refusal will be treated as cancellation."),
    ("Any utilisation of the site by the Internaut signifies his adhesion to the conditions in vigour.",
     "Any use of the site by the User signifies his acceptance of the conditions in force."),
    ("The present tense is used at the moment.", "The present tense is used at the moment."),
    ("The contract is regulated by Dutch right; the German law is applicable to the present contract.",
     "The contract is governed by Dutch law; the German law applies to this contract."),
    ("These conditions are subordinated to the law of Luxembourg and the legislation of Estonia.",
     "These conditions are governed by the law of Luxembourg and the law of Estonia."),
    ("Only the tribunals of Lyon know of litigations; the judges of Barcelona; an arbitral tribunal.",
     "Only the courts of Lyon know of disputes; the courts of Barcelona; an arbitral tribunal."),
    ("Who enters is considered to have accepted; adhering to these conditions; we are not to be held liable.",
     "Who enters is deemed to have accepted; accepting these conditions; we shall not be held liable."),
    ("It cannot be called in responsibility. It belongs to the Company to bring changes to the present text.",
     "It cannot be held responsible. The Company may make changes to this text."),
    ("We elaborate your data; he elaborates the data; data elaborated; an elaborate plan.",
     "We process your data; he processes the data; data elaborated; an elaborate plan."),
    ("Disputes go to arbitrage before an arbiter; his data are elaborated; the elaboration of its data.",
     "Disputes go to arbitration before an arbitrator; his data are processed; the processing of its data."),
    ("Two arbiters decide.", "Two arbitrators decide."),
    ("The Vendor holds unharmed the Shop; you concede to us a licence; it comes not to be responsible of it.",
     "The Vendor holds harmless the Shop; you grant to us a licence; it is not responsible for it."),
    ("The Club keeps for itself the possibility to close it; a currency arbitrage; he conceded the point.",
     "The Club reserves the right to close it; a currency arbitrage; he conceded the point."),
    # Permission in other words.
    ("Acme is free to close your account.", "Acme may close your account."),
    ("xAI is also free to terminate your use.", "xAI may terminate your use."),
    ("We're allowed to update these terms; Acme is permitted to close it; you are not allowed to copy it.",
     "We may update these terms; Acme may close it; you are not allowed to copy it."),
    ("We might suspend your account; Might we? You might cancel.",
     "We may suspend your account; May we? You may cancel."),
    ("You can not sue us. Can not.", "You cannot sue us. Cannot."),
    # To end an account or an agreement is to terminate it.
    ("Acme may end all of your accounts, and this agreement ends the relationship.",
     "Acme may terminate all of your accounts, and this agreement terminates the relationship."),
    ("We may, if needed, review posts, and we may, where appropriate, remove them",
     "We may review posts, and we may remove them, if needed, where appropriate"),
])
def test_reads_as(text: str, read_as: str) -> None:
    assert prepare(text) == read_as


@pytest.mark.parametrize("text", [
    "The courts of Ireland have jurisdiction.", "NO WARRANTY", "Read the GDPR and the DSA first.",  # case
    "It's Acme's app.",  # 's is a verb or a possessive
    "A company may change its prices.", "30 days after you cancel, we delete the data.",
    "2019 was the first year.",  # no clause number
    "Other users may see it.", "Acme may close their accounts.", "The user interface is in English.",
    "User Content may be removed.",
    "A Member may invite friends.", "Users of the app vote.",  # not the consumer as subject or possessor
    "You agree that Acme may change these Terms.",  # agreeing can be what a rule looks for
    "We may collect, use and share it.", "Acme will, however.",  # a list after a modal; no verb after
    "We may at any time.",  # an adverbial with nothing after it
    "At the end of the month your subscription ends.", "Read the end user licence.",  # "end" as a noun
    "Acme is regulated by the Financial Conduct Authority.", "You have the right to object.",  # not law
    "Adhering to the rules keeps everyone safe.", "The rules are applicable where you live.",
])
def test_left_as_written(text: str) -> None:
    assert prepare(text) == text


@pytest.mark.parametrize("invisible", ["\u2060", "\u200c", "\u200d", "\u034f", "\u00ad", "\u180e", "\ufe0f",
                                       "\U000e0041"])
def test_an_invisible_character_inside_a_word_hides_nothing_from_the_rules(invisible: str) -> None:
    """Found by a security review: "binding arbi\u2060tration" reads as "binding arbitration" on
    the page, and no rule flagged it, a false all-clear any service could write."""
    from pathlib import Path

    from generator.analyze import analyze_markdown
    from generator.rules import load_ruleset

    root = Path(__file__).resolve().parent.parent
    rules = load_ruleset(root / "content").rules
    plain = "You agree that all disputes will be resolved by binding arbitration and you waive class actions."
    hidden = plain.replace("arbitration", f"arbi{invisible}tration").replace("class", f"cl{invisible}ass")
    assert prepare(hidden) == prepare(plain)
    found = {f.rule_id for f in analyze_markdown(rules, "terms-of-service", hidden)}
    assert found == {f.rule_id for f in analyze_markdown(rules, "terms-of-service", plain)}
    assert {"mandatory-arbitration", "class-action-waiver"} <= found
