"""The conversation engine: answering, offering and continuing the assessment, commands at any step, and
bad input that must never lose state."""

from __future__ import annotations

from collections.abc import Callable

from triage_support import Chat, RecordingAnswerer

from bot.conversation import ConversationEngine, EscalationRequest
from bot.store import Database
from bot.types import Reply

PLAN = "I'm planning a collaboration with a lab in Chile and we will sign an MoU."


def test_a_question_is_answered_from_the_guidelines(
    chat: Callable[..., Chat], stub_answerer: RecordingAnswerer
) -> None:
    user = chat()
    replies = user.say("Who carries out the risk assessment for a research collaboration?")
    assert [r.kind for r in replies] == ["answer"]
    assert replies[0].answer is not None and replies[0].answer.citations
    assert stub_answerer.questions == ["Who carries out the risk assessment for a research collaboration?"]
    assert {a.value.split(":")[1] for a in replies[0].actions if a.value.startswith("feedback:")} == {
        "up",
        "down",
    }


def test_a_described_plan_gets_the_assessment_offered_and_its_details_are_kept(
    chat: Callable[..., Chat],
) -> None:
    user = chat()
    replies = user.say(PLAN)
    assert replies[-1].data.get("offer") is True
    assert "triage:start" in [a.value for a in replies[-1].actions]
    user.press("triage:start")
    assert user.last.data["known"]["area"] == "research"
    assert user.last.data["known"]["formalised"] == "yes"
    assert user.question["multiple"] is True  # only the concerns are left, asked together
    assert "Research" in user.last.text and "What I understood" in user.last.text


def test_yes_to_the_offer_starts_and_no_declines(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say(PLAN)
    user.say("yes please")
    assert user.last.kind == "question"
    other = chat()
    other.say(PLAN)
    other.say("no thanks")
    assert other.last.kind == "text" and "Ask me anything" in other.last.text


def test_a_question_mid_assessment_is_answered_and_the_question_comes_back(
    chat: Callable[..., Chat], stub_answerer: RecordingAnswerer
) -> None:
    user = chat()
    user.say("start assessment")
    first = user.question
    replies = user.say("What does formalised mean in the guidelines?")
    assert [r.kind for r in replies] == ["answer", "question"]
    assert user.question == first
    assert stub_answerer.questions == ["What does formalised mean in the guidelines?"]
    user.say("1")
    assert user.last.data["known"]["area"] == "research"


def test_answers_by_number_value_label_or_own_words(chat: Callable[..., Chat]) -> None:
    """The first question settles the kind of activity with what follows from it; an answer that names
    only the kind settles only that, and the rest is asked by its own question."""
    research, doctoral, education = "research", "doctoral_education", "first_second_cycle_education"
    for answer, settled, asked in [
        ("3", {"area": doctoral, "formalised": "no"}, "concerns"),
        ("doctoral_agreement", {"area": doctoral, "formalised": "yes"}, "concerns"),
        (
            "Research – an individual, informal collaboration",
            {"area": research, "formalised": "no"},
            "concerns",
        ),
        ("informal research", {"area": research, "formalised": "no"}, "concerns"),
        ("Doctoral education", {"area": doctoral}, "formalised"),
        ("it's for my PhD student", {"area": doctoral}, "formalised"),
        ("Forskning", {"area": research}, "formalised"),
        ("a course I teach", {"area": education, "level": "course"}, "concerns"),
        ("ett program", {"area": education, "level": "programme"}, "ku_managed"),
        ("something else", {"area": "other"}, "concerns"),
    ]:
        user = chat()
        user.say("start assessment")
        user.say(answer)
        known = user.last.data["known"]
        assert {slot: known[slot] for slot in settled} == settled, answer
        assert user.question["slot"] == asked, answer


def test_own_words_fill_several_slots_and_only_the_rest_is_asked(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say("start assessment")
    user.say("It's research, informal, and the partner abroad does the mouse experiments.")
    known = user.last.data["known"]
    assert (known["area"], known["formalised"], known["animals_abroad"]) == ("research", "no", "yes")
    assert user.question["slots"] == ["security_concern", "ethical_concern"]


def test_words_in_passing_do_not_change_the_kind_of_activity(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("My PhD student's informal exchange partner has questionable ethics around data use.")
    user.say("also, the partner runs mouse experiments in their lab")
    known = user.outcome["slots"]
    assert known["area"] == "doctoral_education" and known["animals_abroad"] == "yes"


def test_the_concerns_question_takes_several_answers(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("We have a signed research agreement with a university in Japan.")
    assert user.question["slots"] == ["animals_abroad", "security_concern", "ethical_concern"]
    user.say("1 and 3")
    ids = [c["id"] for c in user.outcome["contacts"]]
    assert "animal_welfare_body" in ids and "ethics_committee" in ids and "security_forum" not in ids


def test_a_concern_button_asks_about_the_rest(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("We have a signed research agreement with a university in Japan.")
    user.press("triage:answer:security_concern:yes")
    assert user.question["slots"] == ["animals_abroad", "ethical_concern"]
    user.press(f"triage:answer:{user.question['slot']}:none")  # "None of these"
    assert user.outcome["raise_with"] == ["head_of_department"]


def test_yes_alone_to_the_concerns_asks_which(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("We have a signed research agreement with a university in Japan.")
    user.say("yes")
    assert "Which of them apply" in user.last.text
    assert user.question["slots"] == ["animals_abroad", "security_concern", "ethical_concern"]


def test_help_back_restart_and_cancel_at_any_step(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say("start assessment")
    user.say("help")
    assert "About this question" in user.last.text and user.question["slot"] == "activity"
    user.say("research")
    user.say("2")  # formalised: no
    assert user.last.data["known"]["formalised"] == "no"
    user.say("back")
    assert "went back" in user.last.text and user.question["slot"] == "formalised"
    assert user.last.data["known"]["formalised"] is None
    user.say("back")
    assert user.question["slot"] == "activity"
    user.say("back")
    assert "no earlier answer" in user.last.text and user.question["slot"] == "activity"
    user.say("1")  # research, informal: both at once, and one "back" undoes both
    assert user.question["slot"] == "concerns"
    user.say("back")
    assert user.question["slot"] == "activity" and user.last.data["known"]["formalised"] is None
    user.say("1")
    user.say("restart")
    assert user.question["slot"] == "activity"
    assert user.last.data["known"] == {"area": None, "formalised": None, "level": None}
    user.say("cancel")
    assert user.last.kind == "text" and "cancelled" in user.last.text
    user.say("back")
    assert "no assessment in progress" in user.last.text


def test_talk_to_a_person_at_any_step_keeps_the_assessment(chat: Callable[..., Chat]) -> None:
    user = chat()
    assert user.say("I want to talk to a person")[-1].kind == "escalation"
    user.press("escalate:cancel")
    user.say("start assessment")
    user.say("research")
    for ask in (lambda: user.say("talk to a person"), lambda: user.press("escalate:start")):
        replies = ask()
        assert [r.kind for r in replies] == ["escalation"]
        assert replies[0].data.get("state")
        user.press("escalate:cancel")
    user.say("2")
    assert user.last.data["known"] == {
        "area": "research",
        "formalised": "no",
        "animals_abroad": None,
        "security_concern": None,
        "ethical_concern": None,
    }


def test_the_escalation_hook_receives_what_the_assessment_knows(sqlite_db: Database) -> None:
    seen: list[EscalationRequest] = []

    def hook(request: EscalationRequest) -> list[Reply]:
        seen.append(request)
        return [Reply(kind="escalation", text="A person will contact you.", data={"state": "requested"})]

    engine = ConversationEngine(RecordingAnswerer(), sqlite_db, ttl_hours=1, on_escalate=hook)
    user = Chat(engine)
    user.triage("I want to collaborate informally with a researcher in Chile.")
    replies = user.say("talk to a person")
    assert [r.kind for r in replies] == ["escalation"] and replies[0].data == {"state": "requested"}
    assert seen[0].known == {"area": "research", "formalised": "no"} and seen[0].mode == "triage"
    user.say("none of these")
    assert user.outcome["responsible"] == "individual_researcher"


def test_after_the_outcome_back_reopens_and_summary_downloads(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("I want to collaborate informally with a researcher in Chile <script>alert(1)</script>.")
    user.say("none of these")
    assert user.outcome["responsible"] == "individual_researcher"
    assert {"summary:download", "triage:restart", "escalate:start"} <= {a.value for a in user.last.actions}
    user.press("summary:download")
    summary = user.last.data["summary"]
    assert "<script>" not in summary["html"] and "&lt;script&gt;" in summary["html"]
    assert "Dnr 1-1181/2025" in summary["markdown"] and "Dnr 1-1181/2025" in summary["html"]
    assert "\\<script\\>" in summary["markdown"]
    user.say("back")
    assert user.question["multiple"] is True


def test_student_mobility_names_no_assessor_and_offers_the_international_office(
    chat: Callable[..., Chat],
) -> None:
    user = chat()
    user.triage("I'm a student and I'd like to do my exchange semester in Japan.")
    assert user.question["slot"] == "concerns"  # a student may have a concern too
    user.press("triage:answer:concerns:none")
    outcome = user.outcome
    assert outcome["responsible"] is None and outcome["report_to"] is None and outcome["decides"] is None
    assert [c["id"] for c in outcome["contacts"]] == ["international_office"]
    assert {"3", "fn4"} <= {c["section"] for c in outcome["citations"]}
    assert "name no one who assesses an individual student's exchange" in user.last.text


def test_swedish_is_answered_in_swedish(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("Vi ska skriva under ett avtal om forskningssamarbete med ett universitet i Japan.")
    assert user.question["text"].startswith("Gäller något av följande")
    user.say("inget av detta")
    assert "Gör riskbedömningen: Forskargruppen och institutionen" in user.last.text


def test_an_answer_that_fits_no_choice_is_asked_again_without_losing_anything(
    chat: Callable[..., Chat],
) -> None:
    user = chat()
    user.triage("My PhD student's informal exchange partner has questionable ethics around data use.")
    before = user.last.data["known"]
    for bad in (
        "banana",
        "7",
        "0",
        "1 and 9",
        "maybe",
        "   ",
        "<b>bold</b> <script>x</script>",
        "@channel @here",
    ):
        replies = user.say(bad)
        assert len(replies) == 1 and replies[0].kind == "question", bad
        assert user.last.data["known"] == before, bad
    assert "couldn't match" in user.last.text or "didn't receive" in user.last.text


def test_not_knowing_an_answer_brings_the_explanation(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("A programme wants an exchange agreement with a university in Italy.")
    assert user.question["slot"] == "ku_managed"
    user.say("I don't know")
    assert "dean for higher education" in user.last.text and "talk to a person" in user.last.text
    assert user.question["slot"] == "ku_managed"


def test_unknown_commands_and_buttons_are_explained(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say("start assessment")
    user.say("/frobnicate")
    assert 'I don\'t know the command "/frobnicate"' in user.last.text and user.question["slot"] == "activity"
    for action in (
        "triage:answer:area:banana",
        "triage:answer:activity:banana",
        "triage:answer:nonsense:yes",
        "weird:thing",
        "triage:answer",
    ):
        user.press(action)
        assert "no longer applies" in user.last.text and user.question["slot"] == "activity", action


def test_a_ten_thousand_character_reply_is_refused_and_state_kept(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.triage("Our department will sign a research agreement with a university in Japan.")
    before = user.last.data["known"]
    replies = user.say("security " * 1112)
    assert len(replies) == 1 and "10,008 characters" in replies[0].text
    assert user.last.data["known"] == before and user.question["multiple"]
    user.say("none")
    assert user.outcome["decides"] == "agreement_signatory"


def test_a_button_outside_the_assessment_explains(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.press("triage:answer:area:research")
    assert "no assessment in progress" in user.last.text
    user.press("summary:download")
    assert "no finished assessment" in user.last.text
    user.press("feedback:up:1:2")
    assert user.last.data == {"feedback": "up", "ref": "1:2"}


def test_a_flagged_concern_offers_a_person_and_a_plain_outcome_does_not(chat: Callable[..., Chat]) -> None:
    flagged = chat(conversation="flagged")
    flagged.triage("We have a signed research agreement with a university in Japan.")
    flagged.press("triage:answer:ethical_concern:yes")
    flagged.press(f"triage:answer:{flagged.question['slot']}:none")
    outcome = next(r for r in flagged.replies if r.kind == "outcome")
    assert "Talk to a person" in outcome.text and "escalate:start" in [a.value for a in outcome.actions]

    plain = chat(conversation="plain")
    plain.triage("We have a signed research agreement with a university in Japan.")
    plain.press(f"triage:answer:{plain.question['slot']}:none")
    outcome = next(r for r in plain.replies if r.kind == "outcome")
    assert "You flagged" not in outcome.text


def test_every_answer_offers_a_person_and_feedback(chat: Callable[..., Chat]) -> None:
    user = chat()
    user.say("Who decides whether a cooperation can proceed?")
    answer = next(r for r in user.replies if r.kind == "answer")
    assert answer.answer is not None and answer.answer.grounded
    values = [a.value for a in answer.actions]
    assert "escalate:start" in values
    assert any(v.startswith("feedback:up:") for v in values)
