"""Reads triage slots out of what people write, in English and Swedish.

Each slot has cues: word patterns that point to a value. A cue preceded closely by a negation ("no animal
experiments", "inga säkerhetsrisker") or followed by one ("security is not an issue") counts for the
opposite value. Only what the text states is filled; anything unclear stays unknown and is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import slot_cues as lex
from bot.slot_cues import Cues
from knowledge.text import fold
from knowledge.triage_flow import Flow, default_flow

YES, NO = "yes", "no"


def normalise(text: str) -> str:
    return " ".join(fold(text).split())


def _negated(text: str, start: int, end: int) -> bool:
    before = text[:start]
    breaks = list(lex.CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    window = " ".join(before.split()[-lex.NEGATION_REACH :])
    negations = list(lex.NEGATION.finditer(window))
    if negations and lex.DOUBT.search(window):
        return False
    if negations:
        # "does not respect patients' rights" is a concern, not its absence
        return not lex.COMPLIANCE.search(window[negations[-1].end() :])
    after = text[end:]
    contrast = lex.CONTRAST.match(after)  # "an ethical question, not a paperwork one": the other is denied
    if contrast and not lex.TRAILING_NEGATION.search(contrast["rest"]):
        return False
    stop = lex.CLAUSE_BREAK.search(after)
    following = after[: stop.start()] if stop else after
    tag = lex.QUESTION_TAG.search(following)
    if tag:
        following = following[: tag.start()]
    return bool(lex.TRAILING_NEGATION.search(following))


def _polarity(text: str, found: Cues) -> tuple[bool, bool]:
    """Whether `text` holds an affirmed and/or a negated instance of any of the cues."""
    if not found.could_match(text):
        return False, False
    affirmed = negated = False
    for cue in found:
        for match in cue.matches(text):
            if cue.negatable and _negated(text, match.start(), match.end()):
                negated = True
            else:
                affirmed = True
    return affirmed, negated


def _present(text: str, found: Cues) -> bool:
    return found.could_match(text) and any(c.matches(text) for c in found)


def _score(text: str, found: Cues) -> float:
    total = 0.0
    if not found.could_match(text):
        return total
    # Negation elsewhere is not applied ("no agreement for our research" is still about research); a word
    # denied itself is ("we are neither researchers nor teachers").
    for cue in found:
        if any(not _denied(text, m.start()) for m in cue.matches(text)):
            total += cue.weight
    return total


def _denied(text: str, start: int) -> bool:
    before = text[:start].split()
    return bool(before) and bool(lex.DENIAL.fullmatch(before[-1].strip(",;:")))


def area(text: str) -> str | None:
    scores = {value: _score(text, found) for value, found in lex.AREA.items()}
    best = max(scores.values())
    if best < lex.AREA_THRESHOLD:
        return None
    leaders = [v for v, s in scores.items() if s == best]
    return leaders[0] if len(leaders) == 1 else None


def _last_affirmed(text: str, found: Cues) -> int:
    """Where the last affirmed instance of any of the cues ends (-1: none)."""
    ends = [
        m.end()
        for cue in found
        for m in cue.matches(text)
        if not (cue.negatable and _negated(text, m.start(), m.end()))
    ]
    return max(ends, default=-1)


def formalised(text: str) -> str | None:
    """Formalised or not; when a text says both ("informal so far, now we sign an agreement", "only formal
    agreements need one, but mine is informal"), the later statement is the situation now."""
    affirmed, negated = _polarity(text, lex.FORMAL)
    informal = _present(text, lex.INFORMAL)
    if affirmed and informal:
        return YES if _last_affirmed(text, lex.FORMAL) > _last_affirmed(text, lex.INFORMAL) else NO
    if affirmed and not _informal_cue_before_formal(text):
        return YES
    if negated or informal:
        return NO
    return YES if affirmed else None


def _informal_cue_before_formal(text: str) -> bool:
    # "an informal agreement" is not a signed one
    return bool(lex.INFORMAL_AGREEMENT.search(text)) and not lex.SIGNED_WORDS.search(text)


def level(text: str) -> str | None:
    found = [v for v, c in lex.LEVEL.items() if _present(text, c)]
    return found[0] if len(found) == 1 else None


def ku_managed(text: str) -> str | None:
    if _present(text, lex.DEPARTMENT_MANAGED):
        return NO
    affirmed, negated = _polarity(text, lex.KU)
    if negated:
        return NO
    return YES if affirmed else None


def animals_abroad(text: str, original: str = "") -> str | None:
    """Yes when animal work is said to be abroad anywhere in the text (4.4 applies then, whatever is also
    done at home), no when it is only at home or denied."""
    affirmed, negated = _polarity(text, lex.ANIMALS)
    clauses = [c for c in _clauses(text) if _present(c, lex.ANIMALS)]
    # "the animals won't even be at KI": what is denied is the place, so they are abroad
    away = [c for c in clauses if _nearest(c, lex.HOME, denied=True) is not None]
    if not affirmed:
        return YES if away else NO if negated else None
    verdicts = [v for v in (_place(c) for c in clauses) if v is not None]
    if verdicts:
        return YES if YES in verdicts else NO
    if _present(text, lex.HOME):
        return None
    return YES if _present(text, lex.ABROAD) or lex.ABROAD_COUNTRY.search(original) else None


def _place(clause: str) -> str | None:
    """Where the clause puts its animal work: at home or abroad, by the place named nearest to it."""
    home, abroad = _nearest(clause, lex.HOME, denied=False), _nearest(clause, lex.ABROAD)
    not_home = _nearest(clause, lex.HOME, denied=True)
    abroad = min((d for d in (abroad, not_home) if d is not None), default=None)
    if home is None and abroad is None:
        return None
    return NO if abroad is None or (home is not None and home < abroad) else YES


def _nearest(clause: str, found: Cues, denied: bool | None = None) -> int | None:
    """Distance from the first animal cue of the clause to the nearest of the cues, in characters; only
    the denied or only the affirmed ones when `denied` says which."""
    animal = min(m.start() for cue in lex.ANIMALS for m in cue.matches(clause))
    spots = [
        abs(m.start() - animal)
        for cue in found
        for m in cue.matches(clause)
        if denied is None or _negated(clause, m.start(), m.end()) == denied
    ]
    return min(spots, default=None)


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[.;!?\n]|\b(?:but|while|whereas|so|men|medan|så)\b", text) if c.strip()]


def _concern(text: str, found: Cues) -> str | None:
    affirmed, negated = _polarity(text, found)
    if affirmed:
        return YES
    if negated or lex.NO_CONCERNS.search(text):
        return NO
    return None


# The readers a flow's slots name (`read:` in knowledge/triage_flow.yaml): (normalised text, raw) -> value.
READERS: dict[str, Callable[[str, str], str | None]] = {
    "area": lambda text, raw: area(text),
    "formalised": lambda text, raw: formalised(text),
    "level": lambda text, raw: level(text),
    "ku_managed": lambda text, raw: ku_managed(text),
    "animals": animals_abroad,
    "security": lambda text, raw: _concern(text, lex.SECURITY),
    "ethical": lambda text, raw: _concern(text, lex.ETHICAL),
}


def extract(raw: str, flow: Flow | None = None) -> dict[str, str]:
    """Every slot of the flow the text states, with its value."""
    text = normalise(raw)
    reads = (flow or default_flow()).reads
    found = {slot: READERS[reader](text, raw) for slot, reader in reads.items()}
    return {slot: value for slot, value in found.items() if value is not None}


def named(slot: str, raw: str) -> str | None:
    """The value a reply gives for `slot` when the question already names the topic: "animals" answers
    "animal experiments abroad?" without repeating "abroad"."""
    text = normalise(raw)
    if default_flow().reads.get(slot) == "animals":
        affirmed, negated = _polarity(text, lex.ANIMALS)
        return YES if affirmed else NO if negated else None
    return extract(raw).get(slot)


def yes_no(raw: str) -> str | None:
    """A plain yes or no at the start of an answer ("yes, we signed", "nej")."""
    text = normalise(raw)
    if lex.NO_ANSWER.search(text):
        return NO
    if lex.YES_ANSWER.search(text):
        return YES
    return None


def says_none(raw: str) -> bool:
    """The answer rules out everything asked about ("none of these", "no", "inga")."""
    text = normalise(raw)
    return bool(lex.NO_CONCERNS.search(text) or lex.NO_ANSWER.search(text))
