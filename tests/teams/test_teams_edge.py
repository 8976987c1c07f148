"""Teams activities become Turns at the edge: mentions stripped, markup dropped, button values checked."""

from __future__ import annotations

import teams_activities as acts
from microsoft_agents.activity import Activity

from connectors.teams import edge


def activity(data: dict[str, object]) -> Activity:
    return Activity.model_validate(data)


def test_personal_message_becomes_a_turn() -> None:
    turn = edge.to_turn(activity(acts.message("Who approves animal experiments abroad?", activity_id="42")))
    assert turn.platform == "teams"
    assert turn.text == "Who approves animal experiments abroad?"
    assert turn.action is None
    assert turn.user_id == acts.USER["aadObjectId"]
    assert turn.user_name == "Megan Bowen"
    assert turn.conversation_id == acts.conversation()["id"]
    assert turn.event_id == f"teams:{turn.conversation_id}:42"
    reference = turn.reply_ref["reference"]
    assert turn.reply_ref["platform"] == "teams"
    assert reference["serviceUrl"] == "http://127.0.0.1:9/"
    assert reference["bot"]["id"] == acts.BOT_ID
    assert reference["conversation"]["id"] == turn.conversation_id
    assert "activityId" not in reference
    assert reference["user"] == {"id": acts.USER["id"], "aadObjectId": acts.USER["aadObjectId"]}


def test_channel_mention_is_stripped_and_other_mentions_keep_their_names() -> None:
    data = acts.message(
        "<at>ribot</at> should <at>Adele Vance</at> report our MoU to the head of department?",
        kind="channel",
        mentions=[acts.bot_mention(), acts.user_mention("Adele Vance", "29:adele")],
    )
    turn = edge.to_turn(activity(data))
    assert turn.text == "should Adele Vance report our MoU to the head of department?"
    assert turn.conversation_id.startswith(acts.CHANNEL + ";messageid=")


def test_group_chat_mention_in_the_middle_is_stripped() -> None:
    data = acts.message("Hi <at>ribot</at>, what is a formalised collaboration?", kind="groupChat")
    data["entities"].append(acts.bot_mention())
    assert edge.to_turn(activity(data)).text == "Hi , what is a formalised collaboration?"


def test_mass_mentions_and_html_become_plain_words() -> None:
    many = " ".join(f"<at>Person {n}</at>" for n in range(200))
    data = acts.message(f"<p>{many}</p><p><b>Is</b> this &lt;fine&gt;?<br/>Thanks</p><script>x()</script>")
    names = " ".join(f"Person {n}" for n in range(200))
    assert edge.to_turn(activity(data)).text == f"{names}\nIs this <fine>?\nThanks\nx()"


def test_button_press_carries_the_action() -> None:
    data = acts.message(None, value={"action": "triage:answer:area:research"})
    turn = edge.to_turn(activity(data))
    assert turn.action == "triage:answer:area:research"
    assert turn.text == ""


def test_a_button_that_carries_a_language_chooses_it() -> None:
    pressed = acts.message(None, value={"action": "triage:start", "language": "sv"})
    assert edge.to_turn(activity(pressed)).language == "sv"
    for value in ({"action": "triage:start"}, {"action": "triage:start", "language": "de"}, "sv"):
        assert edge.to_turn(activity(acts.message(None, value=value))).language is None


def test_hostile_button_values_are_not_actions() -> None:
    for value in (
        {"action": "triage:answer:area:research<script>"},
        {"action": "x" * 500},
        {"action": 7},
        {"other": "triage:start"},
        "triage:start",
        ["triage:start"],
    ):
        assert edge.to_turn(activity(acts.message(None, value=value))).action is None


def test_bot_added_is_told_apart_from_users_joining() -> None:
    joined = activity(acts.members_added(service_url="http://127.0.0.1:9/"))
    assert edge.bot_was_added(joined)
    others = activity(acts.members_added(service_url="http://127.0.0.1:9/", bot_included=False))
    assert not edge.bot_was_added(others)


def test_reference_round_trips_to_a_continuation() -> None:
    ref = edge.reference_json(activity(acts.message("hello", kind="channel")))
    continuation = edge.reference_from_json(ref).get_continuation_activity()
    assert continuation.service_url == "http://127.0.0.1:9/"
    assert continuation.conversation.id.startswith(acts.CHANNEL)
    assert continuation.recipient.id == acts.BOT_ID
