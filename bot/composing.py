"""Puts an answer together from what was understood: the lead (corrections first, then the statements
that answer for this situation, each with its section), the guideline passages verbatim, and the contacts
in the order to try them. All wording comes from the model of the guidelines."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.knowledge_base import KnowledgeBase
from bot.reading import Reading
from bot.routing import order_contacts
from bot.selection import Correction, Selection, asker_path
from bot.types import Answer
from knowledge.corpus import MAIN_DOC
from knowledge.intent_index import MAX_SCORE
from knowledge.model import Clause, GuidelineModel
from knowledge.triage_flow import Flow
from knowledge.types import Citation, ContactRef, Passage, Retrieval, Text

MAX_CITATIONS = 3
# Retrieved passages scoring below this share of the best one are not quoted: they would dilute the answer.
MIN_RELATIVE_SCORE = 0.7
QUOTES_IN_ENGLISH = Text(
    en="",
    sv="(Citaten nedan är riktlinjernas engelska originaltext.)",
)
DEPENDS = Text(en="It depends on the collaboration.", sv="Det beror på samarbetet.")
OFFER = Text(
    en="The guided assessment can work out which case applies to you.",
    sv="Den guidade bedömningen kan visa vilket fall som gäller dig.",
)
DECLINE = Text(
    en="KI's guidelines for responsible internationalisation do not cover this, so I can't answer it from them.",
    sv="KI:s riktlinjer för ansvarsfull internationalisering tar inte upp detta, så jag kan inte svara på det "
    "utifrån dem.",
)
DECLINE_HELP = Text(
    en="The coordinator of the network for responsible internationalisation at the International Office can "
    "help, or I can pass your question to a person.",
    sv="Samordnaren för nätverket för ansvarsfull internationalisering vid Internationella kansliet kan hjälpa "
    "till, eller så kan jag skicka din fråga vidare till en person.",
)
PART_NOT_FOUND = Text(
    en="For this part of your question I found nothing in the guidelines: “{part}”.",
    sv="För den här delen av frågan hittade jag inget i riktlinjerna: ”{part}”.",
)
REST_NOT_COVERED = Text(
    en="The rest of your question the guidelines do not answer:",
    sv="Resten av frågan svarar riktlinjerna inte på:",
)
SECTION_LABEL = {"meta": Text("document data", "dokumentuppgifter")}


@dataclass
class Understanding:
    reading: Reading
    language: str
    corrections: list[Correction]
    selections: list[Selection]
    # kinds the guidelines do not answer that the message's other questions are, and "unclear:<text>" for
    # questions of it that are neither answered nor such a kind
    not_covered: list[str] = field(default_factory=list)
    flow: Flow | None = None  # whose concern slots bring their contacts


def _ref(clause: Clause, language: str) -> str:
    lead = clause.lead.get(language)
    if clause.section.startswith("fn") and ("footnote" in lead or "fotnot" in lead):
        return lead
    label = SECTION_LABEL.get(clause.section)
    where = (
        label.get(language)
        if label
        else clause.section.replace("fn", "footnote " if language == "en" else "fotnot ")
    )
    return f"{lead.rstrip('.')} ({where})."


def _lead(u: Understanding, path: list[Clause]) -> str:
    language = u.language
    parts: list[str] = []
    said: set[str] = set()
    for correction in u.corrections:
        parts.append(correction.text)
        parts += [_ref(c, language) for c in correction.clauses if c.id not in said]
        said.update(c.id for c in correction.clauses)
    parts += [_ref(c, language) for c in path if c.id not in said]
    said.update(c.id for c in path)
    offer = False
    for selection in u.selections:
        fresh = [c for c in selection.clauses if c.id not in said]
        if not fresh:
            continue
        if selection.undetermined:
            parts.append(DEPENDS.get(language))
            offer = True
        parts += [_ref(c, language) for c in fresh]
        said.update(c.id for c in fresh)
    if offer:
        parts.append(OFFER.get(language))
    return " ".join(parts)


def _uncovered(u: Understanding, model: GuidelineModel) -> str:
    kinds = [k for k in u.not_covered if k in model.out_of_scope]
    reasons = [model.out_of_scope[k].reason.get(u.language) for k in kinds]
    unclear = [k.split(":", 1)[1] for k in u.not_covered if k.startswith("unclear:")]
    said = f"{REST_NOT_COVERED.get(u.language)} {' '.join(reasons)}" if reasons else ""
    parts = [PART_NOT_FOUND.get(u.language).format(part=p.strip().rstrip("?")) for p in unclear]
    return " ".join(x for x in (said, *parts) if x)


def _used_clauses(u: Understanding, path: list[Clause]) -> list[Clause]:
    """In the order their passages are quoted: what answers the question as asked first, then what a
    correction rests on."""
    asked = [c for s in u.selections if not s.from_correction for c in s.clauses]
    facts = [c for s in u.selections if s.from_correction for c in s.clauses]
    corrected = [c for correction in u.corrections for c in correction.clauses]
    clauses = asked[:1] + path + asked[1:] + corrected + facts
    return list({c.id: c for c in clauses}.values())


def _titled(citations: list[Citation], model: GuidelineModel, language: str) -> list[Citation]:
    """The guidelines' section titles in the answer's language (their quotes stay in the original)."""
    return [
        replace(c, title=model.title(c.section, language)) if c.document == MAIN_DOC else c for c in citations
    ]


def _citations(clauses: list[Clause], whole: Retrieval, kb: KnowledgeBase, score: float) -> list[Citation]:
    """The passages the lead rests on, then the best other passages found, then the footnotes they cite."""
    quoted: list[tuple[Citation, Passage]] = []
    seen: set[tuple[str, str]] = set()

    def add(passage: Passage, quote: str, score: float) -> None:
        if (passage.section, quote) not in seen:
            seen.add((passage.section, quote))
            quoted.append((Citation(passage.section, passage.title, quote, score, passage.doc_id), passage))

    for clause in clauses:
        passage = kb.passage(clause.passage_id)
        if passage is not None:
            add(passage, clause.quote if clause.section == "meta" else passage.text, score)
    best = whole.hits[0].score if whole.hits else 0.0
    for hit in whole.hits:
        if len(quoted) >= MAX_CITATIONS or hit.score < MIN_RELATIVE_SCORE * best:
            break
        if hit.passage.doc_id == MAIN_DOC and hit.passage.section != "meta":
            add(hit.passage, hit.passage.text, hit.score)
    return [c for c, _ in quoted] + _linked_footnotes(quoted, kb)


def _linked_footnotes(quoted: list[tuple[Citation, Passage]], kb: KnowledgeBase) -> list[Citation]:
    """The footnotes that the quoted passages point to, quoted after them."""
    out = []
    sections = {c.section for c, _ in quoted}
    for citation, passage in quoted:
        for note in passage.footnotes:
            footnote = kb.passage(f"{MAIN_DOC}:{note}:0")
            if footnote is None or note in sections:
                continue
            sections.add(note)
            out.append(Citation(note, footnote.title, footnote.text, round(citation.score * 0.9, 4)))
    return out


def _named_contacts(u: Understanding, clauses: list[Clause], model: GuidelineModel) -> list[str]:
    """The contacts the clauses name, then those the concerns the message states bring."""
    named = [c for clause in clauses for c in clause.contacts]
    concerns = u.flow.concerns if u.flow else {}
    for slot, concern in concerns.items():
        if u.reading.slots.get(slot) == "yes":
            named += [cid for clause in concern.clauses for cid in model.clauses[clause].contacts]
    return named


def _contacts(u: Understanding, clauses: list[Clause], model: GuidelineModel) -> list[ContactRef]:
    asker = model.actors[u.reading.asker].contact if u.reading.asker else None
    return order_contacts(_named_contacts(u, clauses, model), u.language, exclude=asker)


def compose(u: Understanding, units: list[Retrieval], kb: KnowledgeBase) -> Answer:
    model = kb.model
    plain = [c for s in u.selections for c in s.clauses]
    path = asker_path(u.reading, model, plain, _named_contacts(u, plain, model))
    clauses = _used_clauses(u, path)
    score = round(min(1.0, max((s for _, s in units[0].intents[:1]), default=0.0) / MAX_SCORE), 4)
    lead = " ".join(p for p in (_lead(u, path), _uncovered(u, model)) if p)
    notice = QUOTES_IN_ENGLISH.get(u.language)
    return Answer(
        answer=f"{lead}\n\n{notice}" if notice else lead,
        grounded=True,
        citations=tuple(_titled(_citations(clauses, units[0], kb, score), model, u.language)),
        contacts=tuple(_contacts(u, clauses, model)),
        language=u.language,
        offer_assessment=any(s.undetermined for s in u.selections),
        understood={
            "slots": dict(u.reading.slots),
            "intents": [s.intent for s in u.selections],
            "clauses": [c.id for c in clauses],
        },
    )


def decline(language: str, model: GuidelineModel, reason: str | None, wants_person: bool = False) -> Answer:
    """Says plainly that the guidelines do not cover the question, with the reason where one is known,
    and offers a person."""
    kind = model.out_of_scope.get(reason) if reason else None
    because = kind.reason.get(language) if kind else reason
    parts = [DECLINE.get(language), because or "", DECLINE_HELP.get(language)]
    return Answer(
        answer=" ".join(p for p in parts if p),
        grounded=False,
        citations=(),
        contacts=tuple(order_contacts(["network_coordinator"], language, fallback=True)),
        language=language,
        handover=wants_person,
    )
