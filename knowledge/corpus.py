"""Reads the source documents into sections and paragraph-sized passages.

Markdown sources carry YAML front matter (`doc_id`, `title`, ...) and one `# <id> <title>` heading per
section; `<!-- keywords: ... -->` under a heading adds search-only words (English glosses of Swedish
text, say) and `[^fnN]` links a sentence to its footnote. Plain-text and PDF files dropped beside them
are split on numbered headings ("2.1 Scope") and blank lines; their document id is the file name, or the
`doc_id` in a `<file>.meta.yaml` next to them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from knowledge.types import Passage

SOURCES_DIR = Path(__file__).parent / "sources"
MAIN_DOC = "ki-guidelines"

_HEADING = re.compile(r"^# (?P<id>meta|fn\d+|\d+(?:\.\d+)*)\s+(?P<title>.+?)\s*$")
_KEYWORDS = re.compile(r"^<!--\s*keywords:\s*(?P<words>.*?)\s*-->\s*$")
_FOOTREF = re.compile(r"\[\^(fn\d+)\]")
_PLAIN_HEADING = re.compile(r"^(?P<id>\d+(?:\.\d+)*)\.?\s+(?P<title>[A-ZÅÄÖ].{0,120})$")


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    keywords: str = ""


@dataclass
class Document:
    doc_id: str
    meta: dict[str, Any]
    sections: dict[str, Section]
    path: Path

    @property
    def title(self) -> str:
        return str(self.meta.get("title", self.doc_id))

    def passages(self) -> list[Passage]:
        out: list[Passage] = []
        for section in self.sections.values():
            for n, raw in enumerate(section.paragraphs):
                text = _FOOTREF.sub("", raw).strip()
                search = " ".join(p for p in (section.title, section.keywords, text) if p)
                out.append(
                    Passage(
                        id=f"{self.doc_id}:{section.id}:{n}",
                        doc_id=self.doc_id,
                        section=section.id,
                        title=section.title,
                        text=text,
                        search_text=search,
                        footnotes=tuple(_FOOTREF.findall(raw)),
                        order=len(out),
                    )
                )
        return out


def parse_markdown(path: Path) -> Document:
    raw = path.read_text(encoding="utf-8")
    meta: dict[str, Any] = {}
    if raw.startswith("---\n"):
        head, _, raw = raw[4:].partition("\n---\n")
        meta = yaml.safe_load(head) or {}
    doc_id = str(meta.get("doc_id") or path.stem)
    sections: dict[str, Section] = {}
    current: Section | None = None
    buffer: list[str] = []

    def flush() -> None:
        if current is not None and buffer:
            current.paragraphs.append(" ".join(buffer))
        buffer.clear()

    for line in raw.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        keywords = _KEYWORDS.match(stripped)
        if heading:
            flush()
            current = Section(heading["id"], heading["title"])
            sections[current.id] = current
        elif keywords and current is not None:
            current.keywords = keywords["words"]
        elif not stripped:
            flush()
        else:
            buffer.append(stripped)
    flush()
    return Document(doc_id, meta, sections, path)


def parse_plain(path: Path, text: str) -> Document:
    meta_file = path.with_name(path.name + ".meta.yaml")
    meta: dict[str, Any] = yaml.safe_load(meta_file.read_text()) if meta_file.exists() else {}
    doc_id = str(meta.get("doc_id") or path.stem)
    sections: dict[str, Section] = {}
    current = Section("1", str(meta.get("title", path.stem)))
    buffer: list[str] = []
    for line in [*text.splitlines(), ""]:
        stripped = " ".join(line.split())
        heading = _PLAIN_HEADING.match(stripped)
        if heading or not stripped:
            if buffer:
                current.paragraphs.append(" ".join(buffer))
                sections.setdefault(current.id, current)
                buffer = []
            if heading:
                current = Section(heading["id"], heading["title"])
        else:
            buffer.append(stripped)
    return Document(doc_id, meta, sections, path)


def read_pdf_text(path: Path) -> str:
    from pypdf import PdfReader  # imported here: only PDF sources need it

    return "\n\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def load_document(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix == ".md":
        return parse_markdown(path)
    if suffix == ".pdf":
        return parse_plain(path, read_pdf_text(path))
    return parse_plain(path, path.read_text(encoding="utf-8"))


def source_files(directory: Path) -> list[Path]:
    files = [p for p in directory.iterdir() if p.suffix.lower() in {".md", ".txt", ".pdf"}]
    return sorted(files, key=lambda p: (p.stem != MAIN_DOC, p.name))


def load_documents(directory: Path | None = None) -> list[Document]:
    docs = [load_document(p) for p in source_files(directory or SOURCES_DIR)]
    if directory is not None and directory != SOURCES_DIR and not any(d.doc_id == MAIN_DOC for d in docs):
        docs.insert(0, guidelines())
    return docs


@lru_cache(maxsize=1)
def guidelines() -> Document:
    """KI's guidelines: the document every answer and triage outcome cites."""
    return parse_markdown(SOURCES_DIR / f"{MAIN_DOC}.md")


def section_title(section: str) -> str:
    found = guidelines().sections.get(section)
    return found.title if found else section


def section_passages(section: str) -> list[Passage]:
    return [p for p in guidelines().passages() if p.section == section]


def content_hash(passage: Passage) -> str:
    key = "\x1f".join((passage.id, passage.section, passage.title, passage.search_text, passage.text))
    return hashlib.sha256(key.encode()).hexdigest()
