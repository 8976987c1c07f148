"""Block Kit rendering and text handling: Slack's limits, escaping, and what each kind of reply shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.types import Answer, Choice, Citation, ContactRef, Reply
from connectors.slack import blocks
from connectors.slack.text import escape, from_slack, shorten, split
from tests.activity_question import activity_choices, activity_question

LIVE_MENTION = re.compile(r"<(!channel|!here|!everyone|@U[A-Z0-9]+)[|>]")
HOSTILE = "<!channel> <!here> <!everyone> <@U0ALICE> &lt;!here&gt; <https://evil.example|click> @channel"


def _answer(text: str, quote: str = "The Animal Welfare Body has to be contacted.") -> Reply:
    answer = Answer(
        answer=text,
        grounded=True,
        citations=(Citation("4.4", "KI's Animal Welfare Body", quote, 0.8),),
        contacts=(
            ContactRef("animal_welfare_body", "KI's Animal Welfare Body", "animal experiments abroad"),
            ContactRef("network_coordinator", "Network coordinator", "advice", url="https://ki.se/nc"),
        ),
    )
    actions = [Choice("feedback:up:a1", "Helpful"), Choice("escalate:start", "Talk to a person")]
    return Reply(kind="answer", text=text, answer=answer, actions=actions)


def _all_texts(message: blocks.Message) -> list[str]:
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                found.append(element["text"])
    return found


def test_from_slack_strips_the_bot_mention_and_defuses_markup() -> None:
    text = from_slack(
        "<@UBOT> who do I ask? <!channel> &lt;b&gt; &amp; <https://ki.se|KI> <#C1|general>", "UBOT"
    )
    assert text == "who do I ask? @channel <b> & KI (https://ki.se) #general"


def test_escape_leaves_no_live_mention_or_markup() -> None:
    escaped = escape(from_slack(HOSTILE))
    assert "<" not in escaped and ">" not in escaped
    assert "@channel" not in escaped  # broken by a zero-width space so no client linkifies it
    assert "@\u200bchannel" in escaped


def test_split_respects_the_limit_and_keeps_all_words() -> None:
    text = " ".join(f"word{i}." for i in range(3000))
    pieces = split(text, 3000)
    assert len(pieces) > 1
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_shorten_never_cuts_an_entity_in_half() -> None:
    text = "a" * 95 + "&amp;" + "b" * 20
    short = shorten(text, 100)
    assert len(short) <= 100
    assert not re.search(r"&[a-z]{0,3}…$", short)


def test_answer_has_lead_cited_passages_contacts_and_buttons() -> None:
    [message] = blocks.render(_answer("Contact the Animal Welfare Body."))
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds[0] == "section" and "Animal Welfare Body" in message["blocks"][0]["text"]["text"]
    cite = next(b for b in message["blocks"] if b["type"] == "context")
    assert "§4.4" in cite["elements"][0]["text"]
    assert "has to be contacted" in cite["elements"][0]["text"]
    values = [e.get("value") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "feedback:up:a1" in values and "escalate:start" in values
    urls = [e.get("url") for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "https://ki.se/nc" in urls


def test_long_answer_is_split_within_slack_limits() -> None:
    long_text = "\n\n".join(f"Paragraph {i}. " + "lorem ipsum dolor sit amet " * 40 for i in range(200))
    messages = blocks.render(_answer(long_text, quote="q" * 5000))
    assert len(messages) > 1
    for message in messages:
        assert len(message["blocks"]) <= blocks.MAX_BLOCKS
        assert all(len(t) <= 3000 for t in _all_texts(message))
    shown = " ".join(b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section")
    assert "Paragraph 199." in shown and "Paragraph 0." in shown
    assert messages[-1]["blocks"][-1]["type"] == "actions"  # the buttons come last


def test_hostile_text_is_inert_everywhere() -> None:
    reply = _answer(f"You wrote: {from_slack(HOSTILE)}", quote=HOSTILE)
    for message in blocks.render(reply):
        dumped = json.dumps(message)
        assert not LIVE_MENTION.search(dumped), dumped
        assert "<https://evil.example" not in dumped


def test_question_becomes_buttons_with_triage_values() -> None:
    question = {
        "slot": "area",
        "text": "What is it about?",
        "choices": [{"value": "research", "label": "Research"}, {"value": "other", "label": "Other"}],
    }
    [message] = blocks.render(Reply(kind="question", text="What is it about?", question=question))
    values = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == ["triage:answer:area:research", "triage:answer:area:other"]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_kind_of_activity_question_is_a_row_of_whole_buttons(
    answerer: Any, tmp_path: Path, language: str
) -> None:
    """Each choice of the first question is a primary button with its whole label, in one row."""
    reply = activity_question(answerer, tmp_path, language, "slack")
    [message] = blocks.render(reply)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sections == [f"*{escape(reply.question['text'])}*"]
    first_row = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    answers = [e for e in first_row if e["value"].startswith("triage:answer:")]
    assert [(e["text"]["text"], e["value"]) for e in answers] == [
        (c.label.get(language), f"triage:answer:activity:{c.value}") for c in activity_choices()
    ]
    assert all(e["style"] == "primary" for e in answers)


def test_many_actions_are_spread_over_rows_of_at_most_25() -> None:
    actions = [Choice(f"triage:answer:x:{i}", f"Option {i} " + "x" * 100) for i in range(60)]
    [message] = blocks.render(Reply(kind="text", text="Pick one", actions=actions))
    rows = [b for b in message["blocks"] if b["type"] == "actions"]
    assert len(rows) == 3 and all(len(r["elements"]) <= 25 for r in rows)
    assert all(len(e["text"]["text"]) <= 75 for r in rows for e in r["elements"])
    ids = [e["action_id"] for r in rows for e in r["elements"]]
    assert len(ids) == len(set(ids))


def test_outcome_shows_citations_and_contacts_from_the_contract_shape() -> None:
    outcome = {
        "responsible": "individual_researcher",
        "contacts": [
            {"id": "department_admin_support", "name": "Administrative support", "why": "first stop"}
        ],
        "citations": [
            {"section": "3.2", "title": "Responsibility", "quote": "The researcher is responsible."}
        ],
    }
    actions = [Choice("escalate:start", "Talk to a person")]  # the engine offers a person with every outcome
    [message] = blocks.render(
        Reply(kind="outcome", text="You are responsible.", outcome=outcome, actions=actions)
    )
    dumped = json.dumps(message, ensure_ascii=False)
    assert "§3.2" in dumped and "Administrative support" in dumped and "escalate:start" in dumped


def test_chosen_and_in_place_mark_the_answer_given() -> None:
    [message] = blocks.render(
        Reply(kind="text", text="Pick", actions=[Choice("triage:answer:a:b", "B <!here>")])
    )
    row = next(b for b in message["blocks"] if b["type"] == "actions")
    marked = blocks.chosen(message["blocks"], row["block_id"], "triage:answer:a:b", "B <!here>")
    assert not any(b["type"] == "actions" for b in marked)
    assert "&lt;!here&gt;" in json.dumps(marked)
    updated = blocks.in_place("Research", message)
    assert updated["blocks"][0]["type"] == "context" and "Research" in json.dumps(updated["blocks"][0])


def test_feedback_click_keeps_the_other_buttons_of_its_row() -> None:
    [message] = blocks.render(_answer("Contact the Animal Welfare Body."))
    row = next(b for b in message["blocks"] if b.get("block_id", "").startswith("ribot_actions"))
    marked = blocks.chosen(message["blocks"], row["block_id"], "feedback:up:a1", "Helpful. Thanks!")
    values = [e.get("value") for b in marked if b["type"] == "actions" for e in b["elements"]]
    assert "feedback:up:a1" not in values and "escalate:start" in values
    assert "Thanks!" in json.dumps(marked)


def test_events_without_a_person_channel_or_timestamp_are_not_turns() -> None:
    from connectors.slack.events import is_person_message

    person = {"type": "message", "user": "U1", "channel": "D1", "ts": "1.2", "text": "hi"}
    assert is_person_message(person, "UBOT")
    assert not is_person_message({**person, "user": "UBOT"}, "UBOT")
    assert not is_person_message({**person, "bot_id": "B1"}, "UBOT")
    assert not is_person_message({**person, "subtype": "message_changed"}, "UBOT")
    assert not is_person_message({k: v for k, v in person.items() if k != "channel"}, "UBOT")
    assert not is_person_message({k: v for k, v in person.items() if k != "ts"}, "UBOT")
    assert is_person_message({**person, "subtype": "file_share"}, "UBOT")


def test_outcome_puts_who_carries_out_is_told_and_decides_in_bold() -> None:
    from bot.triage_outcome import build_outcome
    from bot.triage_text import outcome_text
    from knowledge.triage_flow import default_flow

    flow = default_flow()
    slots = {"area": "research", "formalised": "yes"} | dict.fromkeys(
        ("animals_abroad", "security_concern", "ethical_concern"), "no"
    )
    for language in ("en", "sv"):
        outcome = build_outcome(flow, slots, language)
        reply = Reply("outcome", outcome_text(flow, outcome, language), outcome=outcome, language=language)
        [message] = blocks.render(reply)
        mrkdwn = "\n".join(t for t in _all_texts(message)[1:] if flow.say("responsible", language) in t)
        bold = [line for line in re.findall(r"^\*([^*\n]+)\*$", mrkdwn, re.MULTILINE) if ": " in line]
        labels = [flow.say(key, language) for key in ("responsible", "report_to", "decides")]
        assert [line.split(":")[0] for line in bold] == labels, mrkdwn
        assert f"\n{flow.say('ultimate', language)}:" in mrkdwn  # the fourth role line stays plain


def test_a_swedish_reply_has_swedish_labels() -> None:
    cited = tuple(Citation(s, "Title", f"Quote {s}.", 0.5) for s in ("1", "2", "3", "3.1", "3.2", "4", "4.1"))
    answer = Answer(
        "Djurskyddsorganet ska kontaktas.",
        True,
        cited,
        (ContactRef("animal_welfare_body", "KI:s djurskyddsorgan", "Ska kontaktas (4.4)."),),
        language="sv",
    )
    reply = Reply(kind="answer", text=answer.answer, answer=answer, language="sv")
    shown = "\n".join(_all_texts(blocks.render(reply)[0]))
    assert "*Vem som kan hjälpa*" in shown and "Citeras också: §4.1" in shown
    assert "Who can help" not in shown and "Also cited" not in shown
    summary = Reply(
        "text", "# Sammanfattning", data={"summary": {"markdown": "# S", "filename": "x"}}, language="sv"
    )
    assert "Sammanfattning av din bedömning" in _all_texts(blocks.render(summary)[0])[1]
