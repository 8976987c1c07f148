"""Decides what one message or button press means for the conversation and lets the engine act on it."""

from __future__ import annotations

from typing import Protocol

from bot import intents
from bot import slots as extractor
from bot.exchange import Exchange
from bot.inputs import MAX_QUESTION_CHARS
from bot.triage import Reading, Triage, TriageState
from bot.types import Choice, Reply
from knowledge.text import language_of


class ConversationEngine(Protocol):
    """What deciding a message's meaning needs of the engine (bot.conversation.ConversationEngine)."""

    triage_machine: Triage

    def say(self, ex: Exchange, key: str, **values: object) -> str: ...

    def situation(self, text: str, ex: Exchange | None = None) -> dict[str, str]: ...

    def start(self, ex: Exchange, slots: dict[str, str], description_id: int | None) -> None: ...

    def apply(self, ex: Exchange, reading: Reading) -> None: ...

    def step(self, ex: Exchange) -> None: ...

    def answer(self, ex: Exchange, text: str) -> None: ...

    def escalate(self, ex: Exchange) -> None: ...

    def summary(self, ex: Exchange) -> None: ...

    def wants_escalation(self, ex: Exchange) -> bool: ...


MAX_TRIAGE_REPLY = MAX_QUESTION_CHARS
QUESTION_MIN_WORDS = 4  # shorter messages ending in "?" are read as answers ("2?", "yes?")


def dispatch(
    engine: ConversationEngine, ex: Exchange, answers: dict[str, str] | None, force_triage: bool
) -> None:
    if not force_triage and engine.wants_escalation(ex):
        if not ex.turn.action:
            _follow_language(ex, ex.turn.text or "")
        engine.escalate(ex)
    elif ex.turn.action:
        action(engine, ex, ex.turn.action)
    elif force_triage:
        triage_line(engine, ex, ex.turn.text or "", answers or {})
    else:
        message(engine, ex, ex.turn.text or "")


# -- buttons ---------------------------------------------------------------------------------------------
def action(engine: ConversationEngine, ex: Exchange, value: str) -> None:
    parts = value.split(":")
    if value in _SIMPLE_ACTIONS:
        _SIMPLE_ACTIONS[value](engine, ex)
    elif parts[0] == "triage" and len(parts) == 4 and parts[1] == "answer":
        answer_button(engine, ex, parts[2], parts[3])
    elif parts[0] == "feedback" and len(parts) >= 3 and parts[1] in ("up", "down"):
        data = {"feedback": parts[1], "ref": ":".join(parts[2:])}
        ex.replies.append(Reply(kind="text", text=engine.say(ex, "feedback_thanks"), data=data))
    else:
        ex.lead.append(engine.say(ex, "unknown_action"))
        reask_or_say(engine, ex)


def answer_button(engine: ConversationEngine, ex: Exchange, slot: str, value: str) -> None:
    if ex.talk.mode not in ("triage", "done"):
        ex.replies.append(
            Reply(kind="text", text=engine.say(ex, "not_active"), actions=[_start_button(engine, ex)])
        )
        return
    reading = engine.triage_machine.answers(ex.talk.triage, {slot: value})
    if not reading.updates:
        ex.lead.append(engine.say(ex, "unknown_action"))
        reask_or_say(engine, ex)
        return
    engine.apply(ex, reading)


def start(engine: ConversationEngine, ex: Exchange) -> None:
    talk = ex.talk
    if talk.mode == "triage":
        engine.step(ex)
    elif talk.mode == "offered":
        engine.start(ex, talk.offer, talk.description_id)
    else:
        engine.start(ex, {}, None)


def restart(engine: ConversationEngine, ex: Exchange) -> None:
    engine.start(ex, {}, None)


def back(engine: ConversationEngine, ex: Exchange) -> None:
    talk = ex.talk
    if talk.mode not in ("triage", "done"):
        ex.replies.append(
            Reply(kind="text", text=engine.say(ex, "not_active"), actions=[_start_button(engine, ex)])
        )
        return
    went = engine.triage_machine.back(talk.triage)
    ex.lead.append(engine.say(ex, "went_back" if went else "nothing_to_undo"))
    talk.mode = "triage"
    engine.step(ex)


def cancel(engine: ConversationEngine, ex: Exchange) -> None:
    talk = ex.talk
    key = (
        "offer_declined" if talk.mode == "offered" else "cancelled" if talk.mode == "triage" else "not_active"
    )
    talk.mode, talk.triage, talk.offer, talk.description_id = "idle", TriageState(), {}, None
    ex.replies.append(Reply(kind="text", text=engine.say(ex, key)))


def summary(engine: ConversationEngine, ex: Exchange) -> None:
    engine.summary(ex)


def escalate(engine: ConversationEngine, ex: Exchange) -> None:
    engine.escalate(ex)


_SIMPLE_ACTIONS = {
    "triage:start": start,
    "triage:restart": restart,
    "triage:back": back,
    "triage:cancel": cancel,
    "escalate:start": escalate,
    "summary:download": summary,
}
_COMMANDS = {
    "start": start,
    "restart": restart,
    "back": back,
    "cancel": cancel,
    "person": escalate,
    "summary": summary,
}


def _start_button(engine: ConversationEngine, ex: Exchange) -> Choice:
    return Choice("triage:start", engine.say(ex, "label_start"))


def reask_or_say(engine: ConversationEngine, ex: Exchange) -> None:
    """Inside the assessment: the open question again, after the lead lines. Elsewhere: the lead alone."""
    if ex.talk.mode == "triage":
        engine.step(ex)
    else:
        ex.replies.append(Reply(kind="text", text="\n\n".join(ex.lead)))
        ex.lead = []


# -- typed messages ------------------------------------------------------------------------------------
def message(engine: ConversationEngine, ex: Exchange, text: str) -> None:
    talk = ex.talk
    if len(text) > MAX_TRIAGE_REPLY and talk.mode == "triage":
        ex.lead.append(engine.say(ex, "too_long", length=f"{len(text):,}"))
        engine.step(ex)
        return
    _follow_language(ex, text)  # "starta bedömning" starts a Swedish assessment
    if command(engine, ex, text):
        return
    if talk.mode == "triage":
        triage_text(engine, ex, text)
    elif talk.mode == "offered" and intents.affirms(text) and not _asks_more(text):
        engine.start(ex, {**talk.offer, **engine.situation(text, ex)}, talk.description_id)
    elif talk.mode == "offered" and intents.declines(text) and not _asks_more(text):
        cancel(engine, ex)
    else:
        open_message(engine, ex, text)


def needs(mode: str, text: str) -> tuple[bool, bool]:
    """Whether `message` asks the answerer for an answer to `text`, and for the situation it describes, in a
    conversation in `mode` (unless the escalation flow takes the message first): the engine works them out
    before it locks the conversation."""
    if intents.command(text) is not None:
        return False, False
    if mode == "triage":
        return len(text) <= MAX_TRIAGE_REPLY and bool(text.strip()) and _asks_during_triage(text), False
    if mode == "offered" and not _asks_more(text):
        if intents.affirms(text):
            return False, True
        if intents.declines(text):
            return False, False
    plan = _describes_plan(text)
    return not plan or intents.is_question(text), plan


def _describes_plan(text: str) -> bool:
    """A plan short enough to be read as the opening of an assessment."""
    return intents.describes_plan(text) and len(text) <= MAX_TRIAGE_REPLY


def _asks_during_triage(text: str) -> bool:
    """A question asked in the middle of the assessment, answered before the open question is asked again."""
    return intents.is_question(text) and len(text.split()) >= QUESTION_MIN_WORDS


def _asks_more(text: str) -> bool:
    """ "ok, and is that a must?" is a question after a yes, not a yes to the offer."""
    return intents.is_question(text) and len(text.split()) > 3


def command(engine: ConversationEngine, ex: Exchange, text: str) -> bool:
    found = intents.command(text)
    if found is None:
        return False
    if found.name == "help":
        help_(engine, ex)
    elif found.name == "unknown":
        ex.lead.append(engine.say(ex, "unknown_command", command=found.argument[:40]))
        reask_or_say(engine, ex)
    else:
        _COMMANDS[found.name](engine, ex)
    return True


def help_(engine: ConversationEngine, ex: Exchange) -> None:
    ex.lead.append(engine.say(ex, "help"))
    if ex.talk.mode == "triage":
        question = engine.triage_machine.question(ex.talk.triage, ex.talk.language)
        if question:
            ex.lead.append(f"{engine.say(ex, 'about_question')} {question['help']}")
        engine.step(ex)
        return
    ex.replies.append(Reply(kind="text", text="\n\n".join(ex.lead), actions=[_start_button(engine, ex)]))
    ex.lead = []


def open_message(engine: ConversationEngine, ex: Exchange, text: str) -> None:
    """Outside the assessment: answer questions; offer the assessment when a plan is described."""
    plan = _describes_plan(text)
    if not plan or intents.is_question(text):
        engine.answer(ex, text)
    if plan:
        talk = ex.talk
        talk.mode, talk.offer, talk.description_id = "offered", engine.situation(text, ex), ex.message_id
        buttons = [
            _start_button(engine, ex),
            Choice("triage:cancel", engine.say(ex, "label_no_thanks")),
            Choice("escalate:start", engine.say(ex, "label_person")),
        ]
        ex.replies.append(
            Reply(kind="text", text=engine.say(ex, "offer"), actions=buttons, data={"offer": True})
        )


def triage_text(engine: ConversationEngine, ex: Exchange, text: str) -> None:
    state = ex.talk.triage
    if not text.strip():
        ex.lead.append(engine.say(ex, "empty"))
        engine.step(ex)
        return
    if _asks_during_triage(text):
        engine.answer(ex, text)
        ex.lead.append(engine.say(ex, "resume"))
        engine.step(ex)
        return
    if intents.unsure(text):
        question = engine.triage_machine.question(state, ex.talk.language)
        if question:
            ex.lead.append(
                f"{engine.say(ex, 'about_question')} {question['help']} {engine.say(ex, 'unsure')}"
            )
        engine.step(ex)
        return
    reading = engine.triage_machine.read(state, text)
    if reading.updates and (reading.answered or _adds_something(state, reading)):
        engine.apply(ex, reading)
        return
    unclear = engine.triage_machine.is_group(state.pending) and extractor.yes_no(text) == extractor.YES
    ex.lead.append(engine.say(ex, "which_ones" if unclear else "not_understood"))
    engine.step(ex)


def _adds_something(state: TriageState, reading: Reading) -> bool:
    return any(state.slots.get(s) != v for s, v in reading.updates.items())


def triage_line(engine: ConversationEngine, ex: Exchange, text: str, answers: dict[str, str]) -> None:
    """One line of `ribot triage --json`: a whole assessment of its own. The text is read for every slot
    it states and the answers given so far are applied on top; nothing carries over from an earlier
    line, and nothing is assumed."""
    _follow_language(ex, text)
    if len(text) > MAX_TRIAGE_REPLY:
        ex.lead.append(engine.say(ex, "too_long", length=f"{len(text):,}"))
        text = ""
    slots = engine.situation(text) if text.strip() else {}
    given = engine.triage_machine.given(slots, answers)
    if answers and not given:
        ex.lead.append(engine.say(ex, "not_understood"))
    slots.update(given)
    engine.start(ex, slots, ex.message_id if text.strip() else None)


def _follow_language(ex: Exchange, text: str) -> None:
    """One language per conversation, switching only when the user writes in the other one."""
    ex.talk.language = language_of(text, ex.talk.language)
