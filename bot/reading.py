"""Reads a question before it is answered: the situation it describes (by the same slot reader as the
triage), the actors it names, who the user says they are, what it presumes about an actor, and the
questions it asks when it asks more than one. English and Swedish."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot import slots as slot_reader
from knowledge.model import GuidelineModel, Predicate
from knowledge.text import any_of

_SENTENCE = re.compile(r"(?:[^.?!;\n]|\.(?=\d))+[.?!;\n]*")  # "7.5 credits" is one sentence
# Someone saying who they are: "I'm a head of department", "I work in the administrative support team",
# "as the network coordinator", "we are the admin support", "jag är prefekt". The role must follow within a
# few words.
_SELF = re.compile(
    r"(?:\b(?:i am|i'm|im|i work|i'm working|i sit|i serve|i lead|i chair|my role is|my job is|i'm part of|"
    r"we are|we're|we work|we sit|"
    r"jag är|jag jobbar|jag arbetar|jag sitter|jag leder|min roll är|vi är|vi jobbar|vi arbetar|vi sitter"
    r")\b[^.?!;,]{0,30}"
    r"|\bas (?:a |an |the |one of the )?(?:member of (?:a |an |the )?)?|^\s*som |\bi egenskap av |^\s*(?:i|jag) )$"
)
# "I'm a PhD student and my supervisor ...": the role after the conjunction and a possessive is someone
# else's ("I'm a group leader and line manager" are both the asker's).
_CLAUSE_JOIN = re.compile(
    r"\b(?:and|but|or|while|whereas|och|men|eller|medan)\s+(?:my|his|her|their|our|min|mitt|mina|hans|hennes|"
    r"deras|vår|våra)\b"
)
_RELATIVE = re.compile(r"\b(?:who|that|which|whom|som|vilken|vilket)\b")
_NEGATION = re.compile(
    r"\b(?:not|never|no|isn't|doesn't|don't|aren't|won't|can't|cannot|inte|ej|aldrig|inga)\b|n't\b"
)
_PRONOUN = re.compile(r"\b(?:him|her|them|it|they|he|she|dem|honom|henne|den|det|de)\b")
_PART_BREAK = re.compile(
    r"(?<=[?!.;:])\s+|,?\s+(?:and|och|or|eller)\s+(?=(?:then\s+)?(?:(?:from|to|for|by|with|since|until|at|in|on|"
    r"after|before|under|från|till|för|av|med|sedan|vid|efter|före|i|på)\s+)?(?:who|whom|what|where|when|why|how|which|"
    r"is|are|does|do|can|could|should|must|will|would|vem|vilka|vilken|vilket|vad|var|vart|när|hur|varför|"
    r"är|kan|ska|måste|finns|behöver)\b)"
)
# An opening clause that puts a topic aside: what follows asks about something else.
_SET_ASIDE = re.compile(
    r"^\W*(?:besides|apart from|aside from|other than|except for|in addition to|beyond|utöver|förutom|"
    r"bortsett från)\b[^,?]{3,80},\s*",
    re.IGNORECASE,
)
_INTERROGATIVE = re.compile(
    r"^\W*(?:and |och |so |ok |okay |then |but )*(?:who|whom|whose|what|where|when|why|how|which|is|are|does|do|"
    r"did|can|could|should|must|may|will|would|have|has|vem|vems|vilka|vilken|vilket|vad|var|vart|när|hur|"
    r"varför|är|kan|får|måste|ska|bör|behöver|finns|gäller|har)\b"
)


@dataclass(frozen=True)
class Mention:
    actor: str
    start: int
    end: int
    sentence: int


@dataclass(frozen=True)
class Claim:
    """What the question presumes (or asks) of an actor: `predicate` is an id of the model's predicates."""

    actor: str
    predicate: str
    negated: bool = False


@dataclass(frozen=True)
class Reading:
    text: str  # normalised, lower case
    slots: dict[str, str]
    mentions: tuple[Mention, ...] = ()
    asker: str | None = None
    claims: tuple[Claim, ...] = ()
    parts: tuple[str, ...] = ()  # the questions asked, when there are several sentences or questions

    @property
    def named(self) -> list[str]:
        """Actors the question names, other than the asker, in order."""
        return list(dict.fromkeys(m.actor for m in self.mentions if m.actor != self.asker))

    @property
    def subjects(self) -> list[str]:
        """Whom a "what is/does X?" question is about: the actors named in its questions; else the asker,
        whom "what is my role?" is about; else the actors named in its other sentences."""
        spans = _sentences(self.text)
        questions = [m.actor for m in self.mentions if "?" in self.text[slice(*spans[m.sentence])]]
        asked = [a for a in dict.fromkeys(questions) if a != self.asker]
        return asked or ([self.asker] if self.asker else self.named)


_PATTERNS: dict[int, tuple[tuple[str, str, re.Pattern[str]], ...]] = {}


def _alias_patterns(model: GuidelineModel) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    cached = _PATTERNS.get(id(model))
    if cached is not None:
        return cached
    pairs = [(alias, actor.id) for actor in model.actors.values() for alias in actor.aliases]
    pairs.sort(key=lambda pair: -len(pair[0]))
    built = tuple(
        (actor, alias, re.compile(rf"(?<![\w-]){re.escape(alias)}(?:s|en|et|n)?(?![\w-])"))
        for alias, actor in pairs
    )
    _PATTERNS[id(model)] = built
    return built


@lru_cache(maxsize=256)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence; asked for again and again of the same text while it is read."""
    return tuple((m.start(), m.end()) for m in _SENTENCE.finditer(text)) or ((0, len(text)),)


def mentions(text: str, model: GuidelineModel) -> list[Mention]:
    """Actors named in `text` (lower case), the longest alias winning where several overlap."""
    spans = _sentences(text)
    taken: list[tuple[int, int]] = []
    found: list[Mention] = []
    for actor, alias, pattern in _alias_patterns(model):
        if alias not in text:  # what the pattern needs, checked without a regular expression
            continue
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            sentence = next(i for i, (s, e) in enumerate(spans) if s <= match.start() < max(e, s + 1))
            found.append(Mention(actor, match.start(), match.end(), sentence))
    return sorted(found, key=lambda m: m.start)


# "Ombudsman here.", "hi, admin support here": the role, then "here", opening its sentence
_HERE = re.compile(r"^\W*(?:(?:hi|hello|hej)\W+)?(?:the |your |our |ki's |ki:s )?$")
_HERE_AFTER = re.compile(r"^\s*(?:here|här)\b")


def asker(text: str, found: list[Mention]) -> str | None:
    spans = _sentences(text)
    for mention in found:
        start = spans[mention.sentence][0]
        before = text[start : mention.start]
        if _HERE.search(before) and _HERE_AFTER.search(text[mention.end :]):
            return mention.actor
        said = _SELF.search(before)
        gap = before[said.start() :] if said else ""
        if said and not _RELATIVE.search(gap.split(" ", 2)[-1]) and not _CLAUSE_JOIN.search(gap):
            return mention.actor
    return None


def claims(text: str, found: list[Mention], who: str | None, model: GuidelineModel) -> list[Claim]:
    """Each predicate the text expresses, tied to the actor it is said of: the nearest one in its
    sentence, or, through a pronoun, the last one named before it."""
    spans = _sentences(text)
    others = [m for m in found if m.actor != who]
    out: list[Claim] = []
    for predicate in model.predicates.values():
        if not predicate.any_cue.search(text):
            continue
        if predicate.between_look_alikes:
            out += [c for c in _taken_for(text, found, predicate, model) if c not in out]
            continue
        if predicate.of_situation:
            said = [
                m for cue in predicate.cues for m in cue.finditer(text) if _presumed(text, m.start(), spans)
            ]
            out += [Claim("", predicate.id)] if said else []
            continue
        for cue in predicate.cues:
            for match in cue.finditer(text):
                actor = _subject(text, match.start(), match.end(), others, spans)
                if actor is None or not _presumed(text, match.start(), spans):
                    continue
                window = " ".join(text[: match.start()].split()[-4:])
                claim = Claim(actor, predicate.id, bool(_NEGATION.search(window)))
                if claim not in out:
                    out.append(claim)
    return out


def _taken_for(text: str, found: list[Mention], predicate: Predicate, model: GuidelineModel) -> list[Claim]:
    """An actor equated with the one it is often taken for, in one sentence ("my main supervisor counts as
    the immediate supervisor", "is my PhD supervisor the immediate supervisor?"), asked or presumed alike."""
    spans = _sentences(text)
    out = []
    for mention in found:
        other = model.actors[mention.actor].same_as_not
        if other is None or not any(m.actor == other and m.sentence == mention.sentence for m in found):
            continue
        sentence = text[slice(*spans[mention.sentence])]
        if any(cue.search(sentence) for cue in predicate.cues):
            out.append(Claim(mention.actor, predicate.id))
    return out


# What a message asks rather than presumes: a choice ("X vs Y, which one first?"), a doubt ("whether to
# send it to X or Y"), or someone else's act ("the President's decision about X").
_CHOICE = re.compile(r"\b(?:which one|which of|vs\.?|versus|vilken av|vilket av|vem av)\b")
_DOUBT = re.compile(r"\b(?:whether|huruvida|not sure if|osäker på om)\b")
_POSSESSED = re.compile(r"(?:'s|s'|:s)\s+$")


def _presumed(text: str, at: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the predicate at text[at] is presumed of someone, not asked about or someone else's."""
    start, end = next(((s, e) for s, e in spans if s <= at < max(e, s + 1)), (0, len(text)))
    return not (
        _CHOICE.search(text[start:end])
        or _DOUBT.search(text[start:at])
        or _POSSESSED.search(text[max(0, at - 4) : at])
    )


def _subject(
    text: str, at: int, end: int, found: list[Mention], spans: Sequence[tuple[int, int]]
) -> str | None:
    """The actor a predicate at text[at:end] is said of: the nearest one named in its sentence, or the last
    one named before when a pronoun stands right next to the predicate ("send it to him")."""
    sentence = next((i for i, (s, e) in enumerate(spans) if s <= at < max(e, s + 1)), len(spans) - 1)
    same = [m for m in found if m.sentence == sentence]
    if same:
        return min(same, key=lambda m: (m.start > at, abs(m.start - at))).actor
    earlier = [m for m in found if m.sentence < sentence]
    around = " ".join([*text[:at].split()[-1:], *text[end:].split()[:2]])
    if earlier and _PRONOUN.search(around):
        return earlier[-1].actor
    return None


# A question word rules out forms of answer: "who ...?" is never answered by a date, "when ...?" only is.
_OPENING = r"\W*(?:(?:and|och|so|ok|okay|but|then)\W+)*"
_RULED_OUT = (
    (
        re.compile(_OPENING + r"(?:when|since when|until when|how long|när|hur länge|sedan när)\b"),
        # "when does X have to be contacted?" asks in which cases: a contact's clause says
        frozenset({"carries_out", "told", "decides", "where", "which", "why"}),
    ),
    (
        re.compile(_OPENING + r"(?:who|whom|whose|by whom|vem|vems|av vem)\b"),
        frozenset({"when", "where", "why"}),
    ),
    (re.compile(_OPENING + r"(?:where|var|vart)\b"), frozenset({"when", "decides", "why"})),
)


# What a "who" question asks of its person, by the verb of the question: when it names one of the three
# roles and no other, the other two forms cannot answer it ("who does the outcome go to?" asks who is told).
_ROLE_VERBS = {
    "told": re.compile(
        r"\b(?:report(?:ed|s)?|sen[dt]|submit(?:ted)?|hand(?:ed)? (?:it |this |them )?(?:in|over)|go(?:es)? to|"
        r"lands? on|receives?|gets? (?:the |my |our |their )?(?:outcome|result|assessment)|informed|told|notified|"
        r"rapporteras|skickas|lämnas|informeras|får (?:veta|resultatet|utfallet|riskbedömningen))\b"
    ),
    "decides": re.compile(
        r"\b(?:decides?|decided|deciding|decision|approves?|go(?:es)? ahead|proceeds?|final (?:say|word)|green light|"
        r"signs? off|vetoes|stops?|pauses?|beslutar|besluta|bestämmer|avgör|godkänner|fortsätta)\b"
    ),
    "carries_out": re.compile(
        r"\b(?:carr(?:y|ies|ied) out|conducts?|performs?|(?:do|does|did|doing|makes?|writes?|fills? in) "
        r"(?:the |a |our |my |this )?(?:risk )?(?:assessment|analysis)|in charge of|genomför\w*|utför\w*|"
        r"(?:should|must|has to|have to|is to|will|would|shall|ought to)(?: \w+)? do (?:it|this|that|one)|"
        r"gör (?:själva )?riskbedömning\w*|göra (?:själva )?riskbedömning\w*)\b"
    ),
}


def _other_roles(clause: str) -> frozenset[str]:
    named = [form for form, verbs in _ROLE_VERBS.items() if verbs.search(clause)]
    if len(named) != 1:
        return frozenset()
    # who carries it out or decides is not whom to contact for help; whom it is sent to may be
    return frozenset(_ROLE_VERBS) - set(named) | ({"contact"} if named[0] != "told" else set())


# Asking ribot to produce a text ("can you draft ...", "translate ..."): whatever it is about, that is a task
# ribot does not do.
_TASK = re.compile(
    r"^\W*(?:(?:can|could|would|will) you (?:please )?|please )?(?:write|draft|compose|translate|summari[sz]e|"
    r"rewrite|paraphrase|fill in|skriv|översätt|sammanfatta)\b"
)


def asks_for_a_text(raw: str) -> bool:
    return bool(_TASK.match(raw.lower()))


def forms_ruled_out(raw: str) -> frozenset[str]:
    """The intent forms that cannot answer the question word of `raw` (empty when it has none), nor, for
    a question about a person, the verb of its question. The question word is the one that opens the main
    clause: in "When the assessment is done, where does it go?" that is "where", after the comma."""
    text = raw.lower()
    starts = [0, *(m.end() for m in re.finditer(r"[,;:]\s*", text))]
    for start in reversed(starts):
        found = next((forms for pattern, forms in _RULED_OUT if pattern.match(text, start)), None)
        if found is not None:
            clause = re.split(r"[.?!]", text[start:], maxsplit=1)[0]
            return found | (_other_roles(clause) if found == _RULED_OUT[1][1] else frozenset())
    return frozenset()


# "footnote 5", "fotnot 5", "fn5": a footnote named by its number.
_FOOTNOTE = re.compile(r"\b(?:footnote|fotnot(?:en)?|fn)\s*(\d)\b", re.IGNORECASE)


def footnotes_named(raw: str) -> list[str]:
    """The footnotes a message names by number, as section ids ("fn5")."""
    return list(dict.fromkeys(f"fn{n}" for n in _FOOTNOTE.findall(raw)))


def sentences_of(raw: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(raw) if len(s.split()) >= 3]


def _asks(piece: str) -> bool:
    """A piece that opens with a question word, or whose main clause does after what frames it ("for a
    formal partnership, who does ..."). A relative clause between commas ("our programme, whose ...,
    wants ...") is not the main clause, nor is anything in a sentence that ends with a full stop."""
    main = piece.rsplit(",", 1)[-1].strip()
    return bool(_INTERROGATIVE.match(piece) or (not piece.endswith(".") and _INTERROGATIVE.match(main)))


def question_parts(raw: str) -> list[str]:
    """The questions a message asks: its sentences and ", and who ..." clauses that are questions, each
    without what it sets aside ("Besides contacting X, is there ..." asks about something other than X).
    A message with one question (or none recognisable) gives itself."""
    pieces = [p.strip() for p in _PART_BREAK.split(raw) if p and len(p.split()) >= 2]
    asked = [_SET_ASIDE.sub("", p) for p in pieces if p.rstrip().endswith("?") or _asks(p.lower())]
    if len(asked) > 1 or (asked and len(pieces) > 1):
        return asked
    return [_SET_ASIDE.sub("", raw)] if _SET_ASIDE.match(raw) else [raw]


def without_contact_names(raw: str, model: GuidelineModel) -> str:
    """The text with the names of the bodies it mentions blanked: "the Committee for Ethics and Good
    Research Practice" says nothing about research, nor "the Animal Welfare Body" about animals."""
    aliases, pattern = _contact_names(model)
    folded = raw.casefold()  # what the pattern's case-blind matching needs, checked without it
    return pattern.sub(" ", raw) if any(alias in folded for alias in aliases) else raw


_CONTACT_NAMES: dict[int, tuple[tuple[str, ...], re.Pattern[str]]] = {}


def _contact_names(model: GuidelineModel) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """Every alias of a contact, and one pattern for them all, longest first, in any case."""
    found = _CONTACT_NAMES.get(id(model))
    if found is None:
        contacts = [
            (alias, p.pattern) for actor, alias, p in _alias_patterns(model) if model.actors[actor].contact
        ]
        pattern = any_of((n for _, n in contacts), re.IGNORECASE)
        found = (tuple(alias.casefold() for alias, _ in contacts), pattern)
        _CONTACT_NAMES[id(model)] = found
    return found


# "me" and "my", not "I": "what is asked of me?" is about the asker, "who do I tell?" about what they do
_FIRST_PERSON = re.compile(r"\b(?:me|my|mine|myself|mig|min|mitt|mina)\b", re.IGNORECASE)


def about_the_asker(parts: list[str], reading: Reading) -> list[str]:
    """Questions that speak of the asker ("what is asked of me?") in a message that says who they are in
    another sentence, read with that sentence: who "me" is decides what is asked."""
    said = next((m for m in reading.mentions if m.actor == reading.asker), None)
    if said is None:
        return parts
    start, end = _sentences(reading.text)[said.sentence]
    intro = reading.text[start:end].strip()
    return [f"{intro} {p}" if _FIRST_PERSON.search(p) and intro not in p.lower() else p for p in parts]


def read(raw: str, model: GuidelineModel) -> Reading:
    text = slot_reader.normalise(raw)
    found = mentions(text, model)
    who = asker(text, found)
    return Reading(
        text=text,
        slots=slot_reader.extract(without_contact_names(raw, model)),
        mentions=tuple(found),
        asker=who,
        claims=tuple(claims(text, found, who, model)),
        parts=tuple(question_parts(raw)),
    )
