"""Scores ribot on an evaluation file in the format of `shared/eval/dev.yaml`, next to the plain pipeline a
LangChain tutorial builds over the same text with the same model, measured in the same run."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.types import Answer
from knowledge.retrieve import Encoder
from knowledge.verbatim import ORIGINAL, is_verbatim

_RAW_HEADING = re.compile(r"^(?P<id>\d(?:\.\d)?)\.?\s+[A-Z][^.\n]*$", re.MULTILINE)
_RAW_FOOTNOTE = re.compile(r"^([¹²³⁴⁵⁶])\s", re.MULTILINE)
_SUPERSCRIPT_NUMBER = {"¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6"}


@dataclass
class Figures:
    recall_at_3: float = 0.0
    mrr: float = 0.0
    questions: int = 0
    failures: list[str] = field(default_factory=list)


def rank_of_first_relevant(ranked: Sequence[set[str]], expected: Sequence[str]) -> int | None:
    """Position of the first result that names an expected section (a result may name several)."""
    return next((i for i, sections in enumerate(ranked) if sections & set(expected)), None)


def retrieval_figures(cases: list[dict[str, Any]], ranked: list[list[set[str]]]) -> Figures:
    figures = Figures(questions=len(cases))
    for case, results in zip(cases, ranked, strict=True):
        rank = rank_of_first_relevant(results, case["sections"])
        figures.recall_at_3 += rank is not None and rank < 3
        figures.mrr += 1 / (rank + 1) if rank is not None else 0.0
        if rank is None or rank >= 3:
            shown = [sorted(r) for r in results[:3]]
            figures.failures.append(f"{case['id']}: expected {case['sections']}, cited {shown}")
    if cases:
        figures.recall_at_3 /= len(cases)
        figures.mrr /= len(cases)
    return figures


def routing_failures(case: dict[str, Any], answer: Answer) -> list[str]:
    ids = [c.id for c in answer.contacts]
    problems = []
    wanted = case.get("contacts_any")
    if wanted and not set(wanted) & set(ids):
        problems.append(f"{case['id']}: contacts {ids} lack any of {wanted}")
    if case.get("ethics_order") and "ethics_committee" in ids:
        gate = [ids.index(c) for c in ("network_coordinator", "scientific_ombudsman") if c in ids]
        if not gate or min(gate) > ids.index("ethics_committee"):
            problems.append(f"{case['id']}: ethics_committee listed before its gatekeepers in {ids}")
    return problems


def fact_failures(case: dict[str, Any], answer: Answer) -> list[str]:
    wanted = case.get("answer_any")
    if wanted and not any(w.lower() in answer.answer.lower() for w in wanted):
        return [f"{case['id']}: answer lacks any of {wanted}"]
    return []


def quote_failures(case_id: str, answer: Answer) -> list[str]:
    return [
        f"{case_id}: quote from {c.section} is not verbatim"
        for c in answer.citations
        if c.document == "ki-guidelines" and not is_verbatim(c.quote)
    ]


def raw_sections(text: str, start: int, end: int) -> set[str]:
    """The sections a span of the original text belongs to: the heading in force at its start, headings
    and footnotes inside it, and `meta` before the body begins."""
    first = _RAW_HEADING.search(text)  # the table of contents has dot leaders, so it never matches
    body_start = first.start() if first else 0
    if start < body_start:
        return {"meta"}
    found: set[str] = set()
    for m in _RAW_HEADING.finditer(text, 0, end):
        if m.start() >= body_start:
            if m.start() <= start:
                found = {m["id"]}
            else:
                found.add(m["id"])
    for m in _RAW_FOOTNOTE.finditer(text, start, end):
        found.add("fn" + _SUPERSCRIPT_NUMBER[m.group(1)])
    return found


def baseline_ranked(questions: list[str], encoder: Encoder) -> list[list[set[str]]]:
    """The tutorial pipeline: RecursiveCharacterTextSplitter(500, 50) over the raw text, Chroma, the same
    embedding model (run by `encoder`), top 3. A chunk counts for every section it touches, which favours
    the baseline."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from knowledge.ingest import chroma_client
    from knowledge.tutorial_embeddings import EncoderEmbeddings

    text = ORIGINAL.read_text(encoding="utf-8")
    splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, add_start_index=True)
    chunks = splitter.create_documents([text])
    with tempfile.TemporaryDirectory(prefix="ribot-baseline-") as tmp:
        client = chroma_client(Path(tmp))
        store = Chroma(
            collection_name="baseline", client=client, embedding_function=EncoderEmbeddings(encoder)
        )
        store.add_documents(chunks)
        ranked = []
        for question in questions:
            docs = store.similarity_search(question, k=3)
            spans = [(int(d.metadata["start_index"]), len(d.page_content)) for d in docs]
            ranked.append([raw_sections(text, start, start + size) for start, size in spans])
        client.delete_collection("baseline")
        return ranked


def baseline_figures(cases: list[dict[str, Any]], encoder: Encoder) -> Figures:
    return retrieval_figures(cases, baseline_ranked([c["q"] for c in cases], encoder))


def triage_figures(
    cases: list[dict[str, Any]], run_case: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    results = [(case, run_case(case)) for case in cases]
    asked = sum(r["asked"] for _, r in results)
    slots = sum(r["slots"] for _, r in results)
    return {
        "cases": len(results),
        "correct": sum(bool(r["ok"]) for _, r in results),
        "asked": asked,
        "slots": slots,
        "failures": [f"{c['id']}: {r.get('problem', r.get('outcome'))}" for c, r in results if not r["ok"]],
        "over_half": [c["id"] for c, r in results if r["asked"] * 2 > r["slots"]],
    }
