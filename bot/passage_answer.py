"""Answers from documents added beside the guidelines (`RIBOT_SOURCES_DIR`): they have no model of their
own, so the lead is the best-matching sentence of the best passage, quoted as it stands."""

from __future__ import annotations

from bot.knowledge_base import KnowledgeBase
from bot.types import Answer
from knowledge.corpus import MAIN_DOC
from knowledge.text import sentences, tokens
from knowledge.types import Citation, Hit, Retrieval

# A passage of an added document answers when it is close in meaning and shares the question's words:
# cosine 0.40 with a BM25 score of 7.5, the levels at which the guidelines' own passages answered on the
# development set before the guidelines had a model of their own.
MIN_COSINE = 0.40
SOME_LEXICAL = 7.5
MAX_CITATIONS = 3


def answers_from_other_document(found: Retrieval) -> bool:
    if not found.hits or found.hits[0].passage.doc_id == MAIN_DOC:
        return False
    best = found.hits[0]
    return best.dense >= MIN_COSINE and best.lexical >= SOME_LEXICAL


def _best_sentence(found: Retrieval, hit: Hit) -> str:
    wanted = set(tokens(found.expanded or found.query))
    split = sentences(hit.passage.text)
    return max(split, key=lambda s: len(wanted & set(tokens(s))))


def passage_answer(found: Retrieval, kb: KnowledgeBase) -> Answer:
    hits = [h for h in found.hits[:MAX_CITATIONS] if h.passage.doc_id == found.hits[0].passage.doc_id]
    best = hits[0]
    p = best.passage
    lead = f"According to {p.doc_id}, section {p.section} ({p.title}): {_best_sentence(found, best)}"
    citations = tuple(
        Citation(h.passage.section, h.passage.title, h.passage.text, h.score, h.passage.doc_id) for h in hits
    )
    return Answer(answer=lead, grounded=True, citations=citations, contacts=(), language=found.language)
