"""The plain pipeline a LangChain tutorial builds over the same text with the same model: the baseline that
`ribot eval` measures in the same run as ribot."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from knowledge.retrieve import Encoder
from knowledge.verbatim import ORIGINAL

_RAW_HEADING = re.compile(r"^(?P<id>\d(?:\.\d)?)\.?\s+[A-Z][^.\n]*$", re.MULTILINE)
_RAW_FOOTNOTE = re.compile(r"^([¹²³⁴⁵⁶])\s", re.MULTILINE)
_SUPERSCRIPT_NUMBER = {"¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6"}


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
