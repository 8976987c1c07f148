"""Follow-ups in a conversation: a message that only changes a condition ("and if we sign an
agreement?"), asks "why?", or asks for another detail of the same thing ("by whom?") is answered in the
context of the previous answer; a new question stands on its own and inherits only the situation it does
not contradict."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.reading import Reading
from knowledge.model import GuidelineModel
from knowledge.text import asked_language, detect_language, words

# Openings that continue what was said: "and if ...", "what if ...", "in that case", "och om ...".
_CONTINUES = re.compile(
    r"^\W*(?:ok(?:ay)?\W+|so\W+|and\W+|but\W+|och\W+|men\W+|okej\W+)*"
    r"(?:if|what if|and if|what about|how about|in that case|then|instead|och om|om|men om|vad händer om|"
    r"i så fall|istället|also|too|even)\b"
)
_WHY = re.compile(r"^\W*(?:and\W+|och\W+|but\W+)?(?:why|how come|varför|hur så)\b")
# What a short follow-up asks, by its question word: the intent forms that can answer it.
_FORMS = (
    (re.compile(r"\b(?:by whom|who|whom|vem|av vem)\b"), ("decides", "carries_out", "told", "contact")),
    (re.compile(r"\b(?:how long|until when|when|since when|hur länge|när|sedan när)\b"), ("when",)),
    (re.compile(r"\b(?:where|var|vart)\b"), ("where", "contact")),
    # "which" and "vilka" ask for a thing or for people ("vilka har de beretts med?": with whom)
    (
        re.compile(r"\b(?:which|what|vilka|vilken|vilket|vad)\b"),
        ("which", "what", "decides", "carries_out", "told", "contact"),
    ),
)
SHORT = 5  # words: a message this short leans on what came before


@dataclass(frozen=True)
class Context:
    """The conversation so far, as far as answering needs it: its language, and what the previous answer
    understood (empty before the first answer)."""

    language: str = "en"
    slots: dict[str, str] = field(default_factory=dict)
    intents: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, language: str) -> Context:
        data = data or {}
        return cls(
            language=language,
            slots={str(k): str(v) for k, v in (data.get("slots") or {}).items()},
            intents=tuple(str(i) for i in data.get("intents") or []),
            clauses=tuple(str(c) for c in data.get("clauses") or []),
        )

    def to_json(self) -> dict[str, Any]:
        return {"slots": dict(self.slots), "intents": list(self.intents), "clauses": list(self.clauses)}


def with_context(reading: Reading, context: Context | None) -> Reading:
    """The situation of the previous answer, updated by what the message says; a different kind of
    collaboration drops the conditions that belonged to the old one."""
    if context is None or not context.intents:
        return reading
    slots = dict(context.slots)
    if "area" in reading.slots and reading.slots["area"] != slots.get("area"):
        slots = {}
    if "level" in reading.slots and reading.slots["level"] != slots.get("level"):
        slots.pop("ku_managed", None)
    slots.update(reading.slots)
    return replace(reading, slots=slots)


# What the guidelines give as the reason for all they ask: asked "why?" after an answer, the answer again and
# the guidelines' purpose.
PURPOSE = "purpose"


def follow_up(
    raw: str,
    reading: Reading,
    near: tuple[tuple[str, float], ...],
    context: Context | None,
    asked: list[str],
    model: GuidelineModel,
) -> list[str]:
    """The intents a message asks about in the context of the previous answer: the same ones for a request
    for the other language or a changed condition, with the purpose for "why?", or another detail of the same
    thing ("by whom?"); `asked` for a new question."""
    if context is None or not context.intents:
        return asked
    language_asked = asked_language(raw)
    rest = language_asked[1] if language_asked else raw
    if language_asked and len(words(rest)) <= SHORT:
        return list(context.intents)
    if _WHY.match(rest.strip().lower()):
        return list(dict.fromkeys([*context.intents, PURPOSE]))
    if continues(reading, rest) or not asked:
        other = same_thing_other_detail(rest, near, context, model)
        return other or (list(context.intents) if continues(reading, rest) else asked)
    return asked


def continues(reading: Reading, raw: str) -> bool:
    """The message continues the previous answer rather than asking something new."""
    text = raw.strip().lower()
    if _CONTINUES.match(text) or _WHY.match(text):
        return True
    # a statement of a new condition ("It's a programme KU manages."), or a short one with a question mark
    states = len(text.split()) <= SHORT or not text.endswith("?")
    return bool(reading.slots) and states and not reading.named


# A follow-up asking what "they" (or he, she) do, can or must: the person of the previous answer.
_ASKS_OF_PERSON = re.compile(
    r"\W*(?:(?:and|och|so|but|men|then|sen)\W+)?(?:(?:what|how|when|why|where|vad|hur|när|varför|var)\W+)?"
    r"(?:do|does|did|can|could|must|should|will|would|are|is|have|has|kan|ska|måste|får|bör|har|är)\s+"
    r"(?P<pronoun>they|he|she|de|han|hon|hen)\b",
    re.IGNORECASE,
)

# "is that my main supervisor then?": the person just named, equated with someone of the asker's own
_SAME_PERSON = re.compile(
    r"\W*(?:(?:and|och|so|but|men)\W+)?(?:is|isn't|would|är)\s+(?P<pronoun>that|this|det|den|he|she|han|hon)\s+"
    r"(?:(?:the same as|samma som)\s+)?(?:my|our|min|mitt|vår)\b",
    re.IGNORECASE,
)


def with_referent(text: str, context: Context | None, model: GuidelineModel) -> str:
    """ "And what do they have to make sure of?" after an answer about the head of department: the question
    with the person named, so that it is read as a question about them."""
    starts = [0, *(m.end() for m in re.finditer(r"[.?!:]\s+", text))]
    found = (pattern.match(text, at) for at in starts for pattern in (_ASKS_OF_PERSON, _SAME_PERSON))
    match = next((m for m in found if m), None)
    if context is None or match is None:
        return text
    person = next((p for p in (_person_of(model, c) for c in context.clauses) if p is not None), None)
    if person is None:
        return text
    name = model.actors[person].names.get(detect_language(text))
    return f"{text[: match.start('pronoun')]}{name}{text[match.end('pronoun') :]}"


def _person_of(model: GuidelineModel, clause_id: str) -> str | None:
    clause = model.clauses.get(clause_id)
    if clause is None:
        return None
    if clause.roles:
        return next(iter(clause.roles.values()))
    actor = model.contact_actor(clause.contacts[0]) if clause.contacts else None
    return actor.id if actor else None


def same_thing_other_detail(
    raw: str, intents: tuple[tuple[str, float], ...], context: Context, model: GuidelineModel
) -> list[str]:
    """ "By whom?" after "when were they decided?": among the intents of the same family as the previous
    answer's (the same prefix, such as the document data's `doc_`) whose form answers the question word,
    the one the message is nearest."""
    asking = _CONTINUES.sub("", raw.lower(), count=1)  # "what if ..." changes a condition, it asks no "what"
    forms = next((f for pattern, f in _FORMS if pattern.search(asking)), ())
    family = {i.split("_", 1)[0] for i in context.intents}
    fitting = {
        i.id
        for i in model.intents.values()
        if i.id.split("_", 1)[0] in family and i.form in forms and i.id not in context.intents
    }
    return [label for label, _ in intents if label in fitting][:1]
