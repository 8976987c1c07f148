"""Adaptive Cards built from ribot's replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.outbound import EscalationNotice
from bot.types import Answer, Choice, Citation, ContactRef, Reply
from connectors.teams import cards, render, welcome
from knowledge.triage_flow import default_flow
from tests.activity_question import activity_choices, activity_question

ANSWER = Answer(
    answer="Animal experiments abroad need KI's Animal Welfare Body.",
    grounded=True,
    citations=(
        Citation("4.4", "KI's Animal Welfare Body", "The Animal Welfare Body has to be contacted.", 0.9),
        Citation("fn3", "Footnote 3: KI's ethical framework", "President's decision 1-576/2024.", 0.5),
    ),
    contacts=(
        ContactRef("animal_welfare_body", "KI's Animal Welfare Body", "Has to be contacted (4.4)."),
        ContactRef("network_coordinator", "The network coordinator", "Ethical questions (4.1)."),
    ),
)


WELCOME = {"en": "Hi, I'm ribot.", "sv": "Hej, jag är ribot."}


def texts(node: Any) -> list[str]:
    """Every TextBlock text and TextRun in a card, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("TextBlock", "TextRun"):
            found.append(node["text"])
        for value in node.values():
            found += texts(value)
    elif isinstance(node, list):
        for item in node:
            found += texts(item)
    return found


def buttons(node: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type", "").startswith("Action."):
            found.append((node["title"], node.get("data", node.get("url"))))
        for value in node.values():
            found += buttons(value)
    elif isinstance(node, list):
        for item in node:
            found += buttons(item)
    return found


def test_answer_card_has_lead_quotes_with_sections_contacts_in_order_and_buttons() -> None:
    reply = Reply(
        kind="answer",
        text="plain",
        answer=ANSWER,
        actions=[Choice("feedback:up:a1", "Helpful"), Choice("escalate:start", "Talk to a person")],
    )
    card = cards.reply_card(reply)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    lines = texts(card)
    assert lines[0] == ANSWER.answer
    assert "Section 4.4 · KI's Animal Welfare Body" in lines
    assert "“The Animal Welfare Body has to be contacted.”" in lines
    # the footnote's title already names it: its heading says so once
    assert "Footnote 3 · KI's ethical framework" in lines
    assert not [line for line in lines if line.count("Footnote") > 1]
    first = next(i for i, line in enumerate(lines) if "KI's Animal Welfare Body**" in line)
    second = next(i for i, line in enumerate(lines) if "The network coordinator**" in line)
    assert lines[first].startswith("1. ") and lines[second].startswith("2. ") and first < second
    assert buttons(card) == [
        ("Helpful", {"action": "feedback:up:a1"}),
        ("Talk to a person", {"action": "escalate:start"}),
    ]


def test_question_card_offers_each_choice_as_a_submit_button() -> None:
    question = {
        "slot": "area",
        "text": "What is the collaboration about?",
        "choices": [
            {"value": "research", "label": "Research"},
            {"value": "other", "label": "Something else"},
        ],
        "help": "Pick the closest.",
    }
    text = (
        "Let's look at your plan.\n\nWhat I understood so far:\n- Formalised: Yes\n\n"
        "What is the collaboration about?\n1. Research\n2. Something else\n\n"
        "Answer with a number or in your own words."
    )
    bare = cards.reply_card(Reply(kind="question", text=text, question=question))
    assert texts(bare) == [
        "Let's look at your plan.",
        "What I understood so far:",
        "- Formalised: Yes",
        "What is the collaboration about?",
        "Pick the closest.",
    ]
    assert buttons(bare) == [
        ("Research", {"action": "triage:answer:area:research"}),
        ("Something else", {"action": "triage:answer:area:other"}),
    ]
    given = [Choice("triage:answer:area:research", "Research"), Choice("triage:cancel", "Cancel")]
    with_controls = cards.reply_card(Reply("question", text, question=question, actions=given))
    assert [b[1]["action"] for b in buttons(with_controls)] == [
        "triage:answer:area:research",
        "triage:cancel",
    ]
    odd = cards.reply_card(Reply("question", "Something unexpected", question=question, actions=given))
    assert texts(odd) == ["Something unexpected"]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_kind_of_activity_question_card_has_a_button_per_choice(
    answerer: Any, tmp_path: Path, language: str
) -> None:
    reply = activity_question(answerer, tmp_path, language, "teams")
    card = cards.reply_card(reply)
    question = reply.question or {}
    shown = texts(card)
    assert shown[-2:] == [question["text"], question["help"]]  # no numbered list or typing hint
    answers = [b for b in buttons(card) if b[1]["action"].startswith("triage:answer:")]
    assert answers == [
        (c.label.get(language), {"action": f"triage:answer:activity:{c.value}"}) for c in activity_choices()
    ]
    rows = [item for item in card["body"] if item["type"] == "ActionSet"]
    assert all(len(row["actions"]) <= cards.MAX_BUTTONS_PER_ROW for row in rows) and cards.fits(card)


def test_many_buttons_are_split_into_rows() -> None:
    many = [Choice(f"triage:answer:area:v{n}", f"Choice {n}") for n in range(12)]
    card = cards.reply_card(Reply(kind="question", text="Pick one", actions=many))
    rows = [block for block in card["body"] if block["type"] == "ActionSet"]
    assert [len(row["actions"]) for row in rows] == [5, 5, 2]


def test_outcome_card_shows_citations_and_contacts_from_the_outcome() -> None:
    outcome = {
        "responsible": "individual_researcher",
        "contacts": [
            {
                "id": "department_admin_support",
                "name": "Your department's admin support",
                "why": "First (4.1).",
            },
            {"id": "gvs", "name": "GVS", "why": "Second (4.1)."},
        ],
        "citations": [{"section": "3.2", "title": "Responsibility", "quote": "Everyone is responsible."}],
    }
    text = (
        "Here is what KI's guidelines say.\n\nResponsible: You\nReport to: Your line manager\n\n"
        "Contacts:\n1. Your department's admin support: First (4.1).\n2. GVS: Second (4.1).\n\n"
        "Risk areas:\n[ ] The partner: Who is the partner?\n\n"
        'Sources:\n[3.2] "Everyone is responsible."\n\nribot does not approve or reject collaborations.'
    )
    card = cards.reply_card(Reply(kind="outcome", text=text, outcome=outcome))
    lines = texts(card)
    assert lines[:6] == [
        "Here is what KI's guidelines say.",
        "Responsible: You",
        "Report to: Your line manager",
        "Risk areas:",
        "☐ The partner: Who is the partner?",
        "ribot does not approve or reject collaborations.",
    ]
    assert "Section 3.2 · Responsibility" in lines
    assert "“Everyone is responsible.”" in lines
    assert lines.index("1. **Your department's admin support**: First (4.1).") < lines.index(
        "2. **GVS**: Second (4.1)."
    )


def test_answer_card_keeps_what_was_said_before_the_answer() -> None:
    reply = Reply(
        kind="answer", text=f"Your earlier assessment expired.\n\n{ANSWER.answer}\n\n[4.4] ...", answer=ANSWER
    )
    assert texts(cards.reply_card(reply))[:2] == ["Your earlier assessment expired.", ANSWER.answer]


def test_long_quotes_are_shortened_and_huge_cards_fall_back_to_text() -> None:
    long = Answer("Lead.", True, (Citation("2", "Purpose", "word " * 1000, 0.5),), ())
    lines = texts(cards.reply_card(Reply("answer", "Lead.", answer=long)))
    quote = next(t for t in lines if t.startswith("“"))
    assert len(quote) <= cards.MAX_QUOTE_CHARS + 2 and quote.endswith("…”")
    huge = Reply(kind="text", text="x" * 30_000, actions=[Choice("triage:start", "Start")])
    activity = render.reply_activity(huge)
    assert (
        not activity.attachments and activity.text is not None and len(activity.text) <= render.MAX_TEXT_CHARS
    )


def test_other_replies_keep_their_line_breaks_and_are_never_markdown() -> None:
    text = "Done: your reference is ESC-00007.\n\nMay I share your name ([Eve](https://evil.example))?"
    card = cards.reply_card(Reply(kind="escalation", text=text))
    runs = [b["inlines"][0] for b in card["body"] if b["type"] == "RichTextBlock"]
    assert [r["text"] for r in runs] == ["Done: your reference is ESC-00007.", text.split("\n\n")[1]]
    assert not [b for b in card["body"] if b["type"] == "TextBlock"]


def test_coordinator_reply_is_marked_as_coming_from_a_person() -> None:
    reply = Reply(
        kind="escalation",
        text="Reply from the network coordinator (ESC-00007):\n\nSee you **Monday**.",
        data={"from": "coordinator", "reference": "ESC-00007", "message": "See you **Monday**.\nAnna"},
    )
    assert texts(cards.reply_card(reply)) == [
        "Reply from the network coordinator (ESC-00007)",
        "See you **Monday**.",
        "Anna",
    ]


def test_summary_is_a_markdown_message_and_answers_are_cards() -> None:
    summary = Reply(kind="text", text="# Summary\n\n- Responsible: you", data={"summary": {"title": "x"}})
    activity = render.reply_activity(summary)
    assert activity.text == summary.text and activity.text_format == "markdown" and not activity.attachments
    card_activity = render.reply_activity(Reply(kind="answer", text="lead", answer=ANSWER))
    assert card_activity.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"


def _labels(language: str) -> tuple[str, str]:
    flow = default_flow()
    return flow.say("label_start", language), flow.say("label_person", language)


def test_welcome_card_speaks_the_teams_clients_language() -> None:
    for locale, language, other in (("sv-SE", "sv", "en"), ("en-GB", "en", "sv"), ("sv", "sv", "en")):
        card = render.welcome_activity(locale).attachments[0].content
        start, person = _labels(language)
        assert buttons(card) == [
            (start, {"action": "triage:start", "language": language}),
            (person, {"action": "escalate:start", "language": language}),
        ]
        shown = " ".join(texts(card))
        assert shown.startswith(WELCOME[language]) and WELCOME[other] not in shown, locale
        assert not set(_labels(other)) & {title for title, _ in buttons(card)}


def test_welcome_card_without_a_locale_ribot_speaks_offers_both_languages() -> None:
    for locale in (None, "", "de-DE", 7):
        card = welcome.welcome_card(locale)
        assert buttons(card) == [
            (label, {"action": action, "language": language})
            for language in ("en", "sv")
            for action, label in zip(("triage:start", "escalate:start"), _labels(language), strict=True)
        ]
        shown = texts(card)
        assert shown[0].startswith(WELCOME["en"]) and shown[2].startswith(WELCOME["sv"])


def test_announcement_keeps_user_words_out_of_markdown() -> None:
    notice = EscalationNotice(
        id=7,
        reference="ESC-7",
        category="security",
        platform="teams",
        created_at=datetime(2026, 6, 1, 9, 30, tzinfo=UTC),
        note="",
        text="[click me](https://evil.example) **urgent**",
        review_url="https://ribot.ki.se/review/7",
    )
    card = cards.announcement_card(notice)
    runs = [b for b in json.loads(json.dumps(card))["body"] if b["type"] == "RichTextBlock"]
    assert runs[0]["inlines"][0] == {"type": "TextRun", "text": notice.text}
    assert buttons(card) == [("Open in the console", "https://ribot.ki.se/review/7")]


def test_swedish_answers_get_swedish_headings() -> None:
    swedish = Answer(
        answer="Djurförsök utomlands kräver kontakt med djurskyddsorganet.",
        grounded=True,
        citations=(Citation("4.4", "KI:s djurskyddsorgan", "Djurskyddsorganet ska kontaktas.", 0.9),),
        contacts=(ContactRef("animal_welfare_body", "KI:s djurskyddsorgan", "Ska kontaktas (4.4)."),),
        language="sv",
    )
    lines = texts(cards.reply_card(Reply(kind="answer", text=swedish.answer, answer=swedish)))
    assert "Ur riktlinjerna" in lines and "Vem du kan kontakta" in lines
    assert "Avsnitt 4.4 · KI:s djurskyddsorgan" in lines


def test_footnote_heading_names_the_footnote_once_in_either_language() -> None:
    bare = Citation("fn6", "Footnote 6", "Rektors besluts- och delegationsordning.", 0.5)
    titled = Citation("fn6", "Footnote 6: delegation of authority", bare.quote, 0.5)
    assert cards.citation_heading(bare) == "Footnote 6"
    assert cards.citation_heading(titled) == "Footnote 6 · delegation of authority"
    assert cards.citation_heading(titled, "sv") == "Fotnot 6 · delegation of authority"
    assert (
        cards.citation_heading(Citation("meta", "Document data", "Dnr 1-1181/2025", 0.5)) == "Document data"
    )


def real_outcome(language: str) -> Reply:
    """An outcome as the engine makes it, from the flow file and the model of the guidelines."""
    from bot.triage_outcome import build_outcome
    from bot.triage_text import outcome_text
    from knowledge.triage_flow import default_flow

    flow = default_flow()
    slots = {"area": "research", "formalised": "yes"} | dict.fromkeys(
        ("animals_abroad", "security_concern", "ethical_concern"), "no"
    )
    outcome = build_outcome(flow, slots, language)
    return Reply("outcome", outcome_text(flow, outcome, language), outcome=outcome, language=language)


def test_outcome_card_emphasises_who_carries_out_is_told_and_decides() -> None:
    from knowledge.triage_flow import default_flow

    flow = default_flow()
    for language in ("en", "sv"):
        card = cards.reply_card(real_outcome(language))
        blocks = [b for b in card["body"] if b.get("type") == "TextBlock"]
        bold = [b["text"] for b in blocks if b.get("weight") == "Bolder" and b.get("color") == "Accent"]
        labels = [flow.say(key, language) for key in ("responsible", "report_to", "decides")]
        assert [line.split(":")[0] for line in bold] == labels, bold
        ultimate = next(b for b in blocks if b["text"].startswith(flow.say("ultimate", language)))
        assert "weight" not in ultimate
        headings = [b["text"] for b in blocks if b.get("size") == "Small" and b.get("weight") == "Bolder"]
        assert not [h for h in headings if h.lower().count("footnote") > 1 or h.count("Fotnot") > 1]
    swedish = {c["section"]: c["title"] for c in real_outcome("sv").outcome["citations"]}
    assert swedish["3.2"] == "Ansvarsfördelning" and swedish["3.1"] == "Riskbedömning", swedish
