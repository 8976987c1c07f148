"""Composes grounded, cited answers from retrieved passages. Nothing in an answer is written by ribot except
the connecting words: the lead is a sentence of the best passage, the quotes are passages verbatim, and the
contacts come from the contact list."""

from __future__ import annotations

import re

from bot.inputs import MAX_QUESTION_CHARS, clean_question
from bot.routing import contacts_for_answer, fallback_contacts
from bot.types import Answer
from knowledge.corpus import MAIN_DOC, guidelines
from knowledge.scope import not_covered
from knowledge.text import detect_language, sentences, tokens
from knowledge.types import Citation, Hit, Passage, Retrieval, Retriever

MAX_CITATIONS = 3
# Grounding: an answer needs a passage close in meaning (cosine) and words shared with the guidelines, and
# the weaker the meaning match, the more shared words it takes. "Coverage" is the share of the subject words
# of the question's best-covered sentence or clause that the guidelines or the glossary know; "lexical" is
# the best quoted passage's BM25 score. Calibrated on the development set and ribot's probe set: their
# in-scope questions have a best cosine of 0.49 or more with coverage of 0.75 or more, and questions that
# describe a situation at length (tests/data/probe.yaml) dip to 0.35 with few known words but a strong
# BM25 match. Out-of-scope questions stay below 0.42 or share at most half of their words and little BM25
# weight; the few that share more (requests for statistics, lists of countries, contact details) are
# declined by the not-covered kinds in knowledge/data/not_covered.yaml.
MIN_COSINE = 0.40
MIN_COVERAGE = 0.60
SOME_LEXICAL = 7.5
LOW_COSINE = 0.33  # enough with a strong word match
STRONG_LEXICAL = 9.0
COVERED_LEXICAL = 6.0  # with coverage, a strong word match
# Passages scoring below this share of the best one are not quoted: they would dilute the answer.
MIN_RELATIVE_SCORE = 0.7

SWEDISH_NOTICE = (
    "(Svaret är på engelska: riktlinjerna citeras i sin engelska lydelse. "
    "The answer is in English, quoting the English text of the guidelines.)"
)
EMPTY_PROMPT = (
    "Please ask a question about KI's guidelines for responsible internationalisation, for example "
    '"Who carries out the risk assessment for a research collaboration?"'
)
TOO_LONG = (
    f"Your message is longer than {MAX_QUESTION_CHARS:,} characters, which is more than a question needs. "
    "Please ask a shorter question; nothing of your message was used."
)
_FOOTNOTE_REF = re.compile(r"\[\^(fn\d+)\]")
_ANAPHORIC_STARTS = frozenset({"This", "These", "They", "Such"})
_LOWER_CASE_STARTS = frozenset(
    "A An The This These That Those It If In For When Where Each Every Matters Responsible Collaboration "
    "International Heads".split()
)


class Answerer:
    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def ask(self, question: str) -> Answer:
        return self.ask_many([question])[0]

    def ask_many(self, questions: list[str]) -> list[Answer]:
        cleaned = [clean_question(q) for q in questions]
        usable = [c.text for c in cleaned if c.problem is None]
        found = iter(self.retriever.search_many(usable, k=6) if usable else [])
        return [_refusal(c.problem) if c.problem else compose(next(found)) for c in cleaned]


def _refusal(problem: str) -> Answer:
    text = TOO_LONG if problem == "too_long" else EMPTY_PROMPT
    return Answer(answer=text, grounded=False, citations=(), contacts=(), notice=problem)


def is_grounded(found: Retrieval) -> bool:
    if not found.hits:
        return False
    cosine = max(h.dense for h in found.hits[:MAX_CITATIONS])
    lexical = max(h.lexical for h in found.hits[:MAX_CITATIONS])
    covered = found.coverage >= MIN_COVERAGE
    some_words = covered or lexical >= SOME_LEXICAL
    strong_words = lexical >= STRONG_LEXICAL or (covered and lexical >= COVERED_LEXICAL)
    return (cosine >= MIN_COSINE and some_words) or (cosine >= LOW_COSINE and strong_words)


def compose(found: Retrieval) -> Answer:
    uncovered = not_covered(found.query)
    if uncovered is not None or not is_grounded(found):
        return _decline(found, uncovered.reason if uncovered else None)
    hits = _quoted_hits(found.hits)
    citations = [_citation(h) for h in hits]
    citations.extend(_linked_footnotes(hits, {c.section for c in citations}))
    lead = _lead(found, hits)
    if found.language == "sv":
        lead = f"{lead}\n\n{SWEDISH_NOTICE}"
    return Answer(
        answer=lead,
        grounded=True,
        citations=tuple(citations),
        contacts=tuple(contacts_for_answer(found.query, found.language, citations)),
        language=found.language,
    )


def _decline(found: Retrieval, reason: str | None) -> Answer:
    parts = [
        "KI's guidelines for responsible internationalisation do not cover this, so I can't answer it from them."
    ]
    if reason:
        parts.append(reason)
    parts.append(
        "The coordinator of the network for responsible internationalisation at the International Office can "
        "help, or I can pass your question to a person."
    )
    if found.language == "sv":
        parts.append("(Riktlinjerna tar inte upp detta. Jag kan skicka frågan vidare till en person.)")
    return Answer(
        answer=" ".join(parts),
        grounded=False,
        citations=(),
        contacts=tuple(fallback_contacts()),
        language=found.language,
    )


def _quoted_hits(hits: tuple[Hit, ...]) -> list[Hit]:
    best = hits[0].score or 1.0
    return [h for h in hits[:MAX_CITATIONS] if h.score >= MIN_RELATIVE_SCORE * best] or [hits[0]]


def _citation(hit: Hit) -> Citation:
    p = hit.passage
    return Citation(section=p.section, title=p.title, quote=p.text, score=hit.score, document=p.doc_id)


def _linked_footnotes(hits: list[Hit], cited: set[str]) -> list[Citation]:
    """Footnotes that the quoted sentences point to, quoted after them."""
    out: list[Citation] = []
    doc = guidelines()
    for hit in hits:
        for note in hit.passage.footnotes:
            if note in cited or hit.passage.doc_id != MAIN_DOC:
                continue
            cited.add(note)
            text = doc.sections[note].paragraphs[0]
            out.append(Citation(note, doc.sections[note].title, text, round(hit.score * 0.9, 4)))
    return out


def _lead(found: Retrieval, hits: list[Hit]) -> str:
    """One or two sentences in the guidelines' own words: the sentences of the quoted passages that share the
    most with the question, introduced by their source, and the English footnote they point to, if any."""
    if hits[0].passage.section == "meta" and hits[0].passage.doc_id == MAIN_DOC:
        return _document_data_lead()
    chosen, hit = _best_sentences(found, hits)
    p = hit.passage
    source = (
        f"section {p.section} ({p.title})" if p.doc_id == MAIN_DOC else f"{p.doc_id}, section {p.section}"
    )
    lead = f"According to {source}, {_continue_sentence(' '.join(chosen))}"
    for note in _footnotes_of(p, chosen):
        text = guidelines().sections[note].paragraphs[0]
        if detect_language(text) == "en":
            lead += f" {text}"
    return lead


def _best_sentences(found: Retrieval, hits: list[Hit]) -> tuple[list[str], Hit]:
    """The best-matching sentence, with the sentence before it when it starts with "This"/"These" (which
    refer back) or when that one matches the question nearly as well (the question spans both)."""
    wanted = set(tokens(found.expanded or found.query))
    best: tuple[float, int, list[str], list[int], Hit] = (-1.0, 0, [], [], hits[0])
    for rank, hit in enumerate(hits):
        # Footnotes list document titles (in Swedish): a lead only when nothing else was found first.
        penalty = 1.0 if hit.passage.section.startswith("fn") and rank else 0.0
        split = sentences(hit.passage.text)
        overlaps = [len(wanted & set(tokens(s))) for s in split]
        for n, overlap in enumerate(overlaps):
            score = overlap + hit.score - 0.35 * rank - penalty
            if score > best[0]:
                best = (score, n, split, overlaps, hit)
    _, n, split, overlaps, hit = best
    starts_anaphoric = n > 0 and split[n].split(" ", 1)[0] in _ANAPHORIC_STARTS
    if starts_anaphoric or (n > 0 and overlaps[n - 1] >= overlaps[n] > 0):
        return split[n - 1 : n + 1], hit
    if n + 1 < len(split) and overlaps[n + 1] >= overlaps[n] > 0:
        return split[n : n + 2], hit
    return split[n : n + 1], hit


def _footnotes_of(passage: Passage, chosen: list[str]) -> list[str]:
    """The footnotes that the chosen sentences themselves cite (not those of other sentences nearby)."""
    if passage.doc_id != MAIN_DOC or not passage.footnotes:
        return []
    index = int(passage.id.rsplit(":", 1)[1])
    raw = guidelines().sections[passage.section].paragraphs[index]
    cited = []
    for sentence in sentences(raw):
        plain = _FOOTNOTE_REF.sub("", sentence)
        if any(plain.startswith(s[:40]) for s in chosen):
            cited += _FOOTNOTE_REF.findall(sentence)
    return cited


def _continue_sentence(sentence: str) -> str:
    """The sentence made to follow "According to ...,": a capitalised first word that is not a name is
    lower-cased."""
    first, _, rest = sentence.partition(" ")
    if first in _LOWER_CASE_STARTS:
        return f"{first.lower()} {rest}"
    return sentence


def _document_data_lead() -> str:
    meta = guidelines().meta
    return (
        f"KI's {meta['title']}: registration number (Dnr) {meta['dnr']}; decided by the {meta['decided_by']} "
        f"on {meta['decision_date']}; valid from {meta['valid_from']}, {meta['valid_until']}; "
        f"responsible office: {meta['responsible_office']}."
    )
