"""The conversation engine: one entry point for every surface. Per message it decides whether to answer a
question from the guidelines, to offer or continue the guided assessment, or to hand over to a person.
State lives in the database (bot.store), one locked row per conversation, never in process memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.dialogue import dispatch, needs
from bot.exchange import Exchange, Prepared, Talk
from bot.followup import Context
from bot.inputs import strip_controls
from bot.slots import extract as extract_slots
from bot.store.base import Database
from bot.store.conversations import ConversationStore
from bot.triage import NONE, Reading, Triage, TriageState
from bot.triage_outcome import build_outcome
from bot.triage_text import changes_line, outcome_text, question_text
from bot.types import Answer, Choice, Reply, Turn
from knowledge.text import language_of
from knowledge.triage_flow import Flow


class AnswererLike(Protocol):
    def ask(self, question: str, context: Context | None = None) -> Answer: ...


@dataclass(frozen=True)
class EscalationRequest:
    """What the escalation part receives when a user asks for a person."""

    turn: Turn
    conversation_id: int
    language: str
    known: dict[str, str]
    mode: str
    session: Session | None = None  # the conversation's open transaction: escalation writes join it


EscalationHandler = Callable[[EscalationRequest], list[Reply]]
EscalationFilter = Callable[[EscalationRequest], bool]  # does this turn belong to the escalation flow


class ConversationEngine:
    def __init__(
        self,
        answerer: AnswererLike,
        db: Database,
        flow: Flow | None = None,
        *,
        ttl_hours: float | None = None,
        on_escalate: EscalationHandler | None = None,
        escalation_wants: EscalationFilter | None = None,
    ) -> None:
        if flow is None:
            from knowledge.triage_flow import default_flow

            flow = default_flow()
        if ttl_hours is None:
            from bot.settings import get_settings

            ttl_hours = get_settings().conversation_ttl_hours
        self.answerer = answerer
        self.db = db
        self.flow = flow
        self.triage_machine = Triage(flow)
        self.store = ConversationStore(db, timedelta(hours=ttl_hours))
        self.ttl_hours = ttl_hours
        if on_escalate is None:
            from bot.escalation import EscalationFlow

            hook = EscalationFlow(flow)
            on_escalate, escalation_wants = hook.handle, hook.wants
        self.on_escalate = on_escalate
        self.escalation_wants = escalation_wants

    # -- entry points -------------------------------------------------------------------------------
    def handle(self, turn: Turn) -> list[Reply]:
        """A message or a button press from any surface."""
        return self._run(turn, None, force_triage=False, prepared=self._prepare(turn))

    def triage(self, turn: Turn, answers: dict[str, str] | None = None) -> list[Reply]:
        """The assessment directly (`ribot triage --json`): the text describes the situation, `answers` fill
        slots by id."""
        return self._run(turn, answers or {}, force_triage=True)

    def _prepare(self, turn: Turn) -> Prepared | None:
        """What the answerer makes of a message, worked out from the conversation as last committed before
        the turn locks it: the model takes its time, and on SQLite the lock is the database's one write
        lock, which deliveries waiting to be stored (and acknowledged) would wait for. The locked turn uses
        it only for that very text in that very context."""
        text = turn.text or ""
        if turn.action or not text.strip():
            return None
        seen = self.store.peek(turn.platform, turn.conversation_id, turn.user_id)
        mode, language, state = (seen.mode, seen.language, seen.state) if seen else ("idle", "en", {})
        answer, situation = needs(mode, text)
        if not (answer or situation):
            return None
        context = Context.from_json(state.get("answered"), language_of(text, turn.language or language))
        return Prepared(
            text,
            context,
            self.answerer.ask(text, context) if answer else None,
            self.situation(text) if situation else None,
        )

    def _run(
        self,
        turn: Turn,
        answers: dict[str, str] | None,
        force_triage: bool,
        prepared: Prepared | None = None,
    ) -> list[Reply]:
        with self.store.open(turn.platform, turn.conversation_id, turn.user_id) as convo:
            talk = Talk.load(convo)
            if turn.language:
                talk.language = turn.language
            said = turn.action or strip_controls(turn.text or "")
            message = convo.record("user", "action" if turn.action else "text", said)
            convo.session.flush()  # the id is referenced by feedback buttons and the summary
            message_id = message.id
            exchange = Exchange(turn, convo, talk, message_id, prepared=prepared)
            if convo.expired and convo.row.mode in ("triage", "offered"):
                exchange.lead.append(self.flow.say("expired", talk.language, hours=self.ttl_hours))
            dispatch(self, exchange, answers, force_triage)
            for reply in exchange.replies:
                reply.language = talk.language
                convo.record("bot", reply.kind, reply.text, _reply_data(reply))
            convo.save(talk.mode, talk.language, talk.to_json())
            return exchange.replies

    # -- building blocks used by bot.dialogue -------------------------------------------------------
    def say(self, ex: Exchange, key: str, **values: object) -> str:
        return self.flow.say(key, ex.talk.language, **values)

    def controls(self, ex: Exchange) -> list[Choice]:
        out = []
        if ex.talk.triage.history:
            out.append(Choice("triage:back", self.say(ex, "label_back")))
        out.append(Choice("escalate:start", self.say(ex, "label_person")))
        out.append(Choice("triage:cancel", self.say(ex, "label_cancel")))
        return out

    def situation(self, text: str, ex: Exchange | None = None) -> dict[str, str]:
        """The slots a message states: the answerer's reading (concerns in the user's own words too), or
        the slot reader's alone for an answerer without one."""
        prepared = ex.prepared.situation_of(text) if ex is not None and ex.prepared else None
        if prepared is not None:
            return prepared
        reader = getattr(self.answerer, "situation", None)
        return dict(reader(text)) if reader is not None else extract_slots(text)

    def start(self, ex: Exchange, slots: dict[str, str], description_id: int | None) -> None:
        talk = ex.talk
        talk.mode, talk.triage, talk.offer, talk.done_on = "triage", TriageState(), {}, None
        talk.description_id = description_id
        self.triage_machine.update(talk.triage, slots)
        talk.triage.history = []  # "back" never undoes what the description said
        ex.lead.insert(0, self.say(ex, "start"))
        self.step(ex)

    def apply(self, ex: Exchange, reading: Reading) -> None:
        """Fills slots and moves on; slots beyond the open question are shown as noted."""
        asked = set(ex.talk.triage.pending)
        changed = self.triage_machine.update(ex.talk.triage, reading.updates)
        extra = {s: v for s, v in changed.items() if s not in asked}
        if extra:
            ex.lead.append(changes_line(self.flow, extra, ex.talk.language))
        if ex.talk.mode == "done":
            ex.talk.mode = "triage"
        self.step(ex)

    def step(self, ex: Exchange) -> None:
        """The next question, or the outcome when nothing is open."""
        talk = ex.talk
        talk.triage.pending = self.triage_machine.next_pending(talk.triage.slots)
        if talk.triage.pending:
            ex.replies.append(self.question_reply(ex))
            ex.lead = []
            return
        outcome = build_outcome(self.flow, talk.triage.slots, talk.language)
        talk.mode, talk.done_on = "done", datetime.now(UTC).date().isoformat()
        text = outcome_text(self.flow, outcome, talk.language)
        if any(talk.triage.slots.get(slot) == "yes" and c.person for slot, c in self.flow.concerns.items()):
            offer = self.say(ex, "concern_offer", person=self.say(ex, "label_person"))
            text = f"{text}\n\n{offer}"
        actions = [
            Choice("summary:download", self.say(ex, "label_summary")),
            Choice("triage:restart", self.say(ex, "label_restart")),
            Choice("escalate:start", self.say(ex, "label_person")),
        ]
        lead = "\n\n".join(ex.lead)
        ex.replies.append(
            Reply(
                kind="outcome", text=f"{lead}\n\n{text}" if lead else text, outcome=outcome, actions=actions
            )
        )
        ex.lead = []

    def question_reply(self, ex: Exchange) -> Reply:
        talk = ex.talk
        question = self.triage_machine.question(talk.triage, talk.language)
        assert question is not None
        text = question_text(self.flow, question, talk.triage.slots, talk.language, ex.lead)
        if question["multiple"]:
            buttons = [
                Choice(f"triage:answer:{c['value']}:yes", c["label"]) for c in question["choices"][:-1]
            ]
            buttons.append(
                Choice(f"triage:answer:{question['slot']}:{NONE}", question["choices"][-1]["label"])
            )
        else:
            buttons = [
                Choice(f"triage:answer:{question['slot']}:{c['value']}", c["label"])
                for c in question["choices"]
            ]
        known = self.triage_machine.known(talk.triage.slots, talk.triage.pending)
        return Reply(
            kind="question",
            text=text,
            question=question,
            actions=[*buttons, *self.controls(ex)],
            data={"known": known},
        )

    def answer(self, ex: Exchange, text: str) -> None:
        """An answer from the guidelines, read in the context of the conversation's previous answer; a
        message that asks for a person is handed over instead."""
        talk = ex.talk
        context = Context.from_json(talk.answered, talk.language)
        found = ex.prepared.answer_to(text, context) if ex.prepared else None
        if found is None:
            found = self.answerer.ask(text, context)
        if found.handover:
            self.escalate(ex)
            return
        if found.understood.get("intents"):
            talk.answered = dict(found.understood)
        elif found.grounded:
            talk.answered = {}
        ref = f"{ex.convo.id}:{ex.message_id}"
        actions = [Choice(f"feedback:up:{ref}", "👍"), Choice(f"feedback:down:{ref}", "👎")]
        if found.offer_assessment and talk.mode != "triage":
            actions.append(Choice("triage:start", self.say(ex, "label_start")))
        actions.append(Choice("escalate:start", self.say(ex, "label_person")))
        lead = "\n\n".join(ex.lead) if ex.talk.mode not in ("triage",) else ""
        body = answer_text(found)
        ex.replies.append(
            Reply(kind="answer", text=f"{lead}\n\n{body}" if lead else body, answer=found, actions=actions)
        )
        if ex.talk.mode != "triage":
            ex.lead = []

    def escalation_request(self, ex: Exchange) -> EscalationRequest:
        talk = ex.talk
        known = dict(talk.triage.slots)
        return EscalationRequest(ex.turn, ex.convo.id, talk.language, known, talk.mode, ex.convo.session)

    def wants_escalation(self, ex: Exchange) -> bool:
        return self.escalation_wants is not None and self.escalation_wants(self.escalation_request(ex))

    def escalate(self, ex: Exchange) -> None:
        request = self.escalation_request(ex)
        if self.on_escalate is not None:
            ex.replies.extend(self.on_escalate(request))
            return
        ex.replies.append(
            Reply(kind="escalation", text=self.say(ex, "escalation"), data={"state": "requested"})
        )

    def summary(self, ex: Exchange) -> None:
        from bot.summary import build_summary

        talk = ex.talk
        if talk.mode != "done":
            ex.replies.append(Reply(kind="text", text=self.say(ex, "no_summary")))
            return
        outcome = build_outcome(self.flow, talk.triage.slots, talk.language)
        description = ex.convo.message_text(talk.description_id) if talk.description_id else None
        day = date.fromisoformat(talk.done_on) if talk.done_on else datetime.now(UTC).date()
        made = build_summary(self.flow, outcome, talk.language, day, description)
        ex.replies.append(Reply(kind="text", text=made.markdown, data={"summary": made.to_json()}))


def answer_text(found: Answer) -> str:
    parts = [found.answer]
    if found.citations:
        parts.append("\n".join(f"[{c.section}] “{c.quote}”" for c in found.citations))
    if found.contacts:
        parts.append("\n".join(f"- {c.name}: {c.why}" for c in found.contacts))
    return "\n\n".join(parts)


def _reply_data(reply: Reply) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    if reply.question:
        data["slot"] = reply.question["slot"]
    if reply.outcome:
        data["rule"] = reply.outcome.get("rule")
    if reply.answer is not None:
        data["grounded"] = reply.answer.grounded
        data["citations"] = [
            {"section": c.section, "title": c.title, "quote": c.quote} for c in reply.answer.citations
        ]
    if reply.kind == "escalation":
        data["escalation"] = reply.data.get("state")
        if "reference" in reply.data:
            data["reference"] = reply.data["reference"]
    return data or None
