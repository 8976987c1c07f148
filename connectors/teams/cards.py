"""Adaptive Cards (schema 1.5, the newest Teams renders) for ribot's replies.

Every card is built from a `bot.types.Reply`: an answer shows its lead, the quoted passages with their
section numbers and the contacts in the order to try them; a triage question shows its choices as
Action.Submit buttons whose `data.action` carries the core's action string, so a press comes back as a
`Turn` with `action` set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from bot.outbound import EscalationNotice
from bot.types import Answer, Choice, Citation, ContactRef, Reply
from connectors.key_lines import key_lines

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

MAX_CITATIONS = 3
MAX_QUOTE_CHARS = 700
MAX_BUTTONS_PER_ROW = 5
# Teams refuses messages over about 28 KB; a bigger card falls back to plain text.
MAX_CARD_BYTES = 24_000

ESCALATE_ACTION = "escalate:start"
TRIAGE_ACTION = "triage:start"

Json = dict[str, Any]

# The few words cards add around the core's text, in the languages the core answers in.
LABELS = {
    "en": {
        "sources": "From the guidelines",
        "contacts": "Who to contact",
        "section": "Section",
        "footnote": "Footnote",
        "meta": "Document data",
        "coordinator": "Reply from the network coordinator",
    },
    "sv": {
        "sources": "Ur riktlinjerna",
        "contacts": "Vem du kan kontakta",
        "section": "Avsnitt",
        "footnote": "Fotnot",
        "meta": "Dokumentuppgifter",
        "coordinator": "Svar från nätverkets samordnare",
    },
}


def label(key: str, language: str = "en") -> str:
    return LABELS.get(language, LABELS["en"])[key]


def language_of(reply: Reply) -> str:
    if reply.answer is not None:
        return reply.answer.language
    found = (reply.outcome or {}).get("language") or reply.data.get("language") or reply.language
    return str(found)


def text_block(text: str, **style: Any) -> Json:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def plain_block(text: str, **style: Any) -> Json:
    """Text shown exactly as written: a TextRun is never read as markdown, so user words cannot add links."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def lines(text: str, *, plain: bool = False, **style: Any) -> list[Json]:
    """One block per line: Adaptive Cards join single line breaks, ribot's texts rely on them."""
    make = plain_block if plain else text_block
    rows = [line.replace("[ ] ", "☐ ", 1) for line in text.splitlines() if line.strip()]
    return [make(row, **style) | ({"spacing": "None"} if n else {}) for n, row in enumerate(rows)]


def paragraphs(text: str, *, plain: bool = False, **style: Any) -> list[Json]:
    out: list[Json] = []
    for block in text.split("\n\n"):
        out += lines(block, plain=plain, **style)
    return out


def submit(choice: Choice) -> Json:
    return {"type": "Action.Submit", "title": choice.label, "data": {"action": choice.value}}


def action_rows(choices: Sequence[Choice]) -> list[Json]:
    """Buttons as ActionSets of at most a few each, so none is hidden behind Teams' overflow menu."""
    rows = []
    for start in range(0, len(choices), MAX_BUTTONS_PER_ROW):
        chunk = choices[start : start + MAX_BUTTONS_PER_ROW]
        rows.append({"type": "ActionSet", "actions": [submit(c) for c in chunk]})
    return rows


def section_label(section: str, language: str = "en") -> str:
    if section.startswith("fn") and section[2:].isdigit():
        return f"{label('footnote', language)} {section[2:]}"
    if section == "meta":
        return label("meta", language)
    return f"{label('section', language)} {section}"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


_FOOTNOTE_TITLE = re.compile(r"^(?:footnote|fotnot)\s*\d+\s*[:·-]?\s*", re.IGNORECASE)


def citation_heading(citation: Citation, language: str = "en") -> str:
    """'Section 4.4 · KI's Animal Welfare Body'; a footnote's title drops the 'Footnote 3:' it starts with."""
    heading = section_label(citation.section, language)
    title = citation.title
    if citation.section.startswith("fn"):
        title = _FOOTNOTE_TITLE.sub("", title)
    if citation.section == "meta" or not title:
        return heading
    return f"{heading} · {title}"


def citation_blocks(citations: Iterable[Citation], language: str = "en") -> list[Json]:
    items = list(citations)[:MAX_CITATIONS]
    if not items:
        return []
    blocks: list[Json] = [text_block(label("sources", language), weight="Bolder", spacing="Medium")]
    for citation in items:
        heading = citation_heading(citation, language)
        blocks.append(
            {
                "type": "Container",
                "style": "emphasis",
                "spacing": "Small",
                "items": [
                    text_block(heading, weight="Bolder", size="Small"),
                    text_block(f"“{shorten(citation.quote, MAX_QUOTE_CHARS)}”", spacing="Small"),
                ],
            }
        )
    return blocks


def contact_blocks(contacts: Iterable[ContactRef], language: str = "en") -> list[Json]:
    items = list(contacts)
    if not items:
        return []
    blocks: list[Json] = [text_block(label("contacts", language), weight="Bolder", spacing="Medium")]
    for number, contact in enumerate(items, start=1):
        name = contact.name
        if contact.url and contact.url.startswith("https://"):
            name = f"[{name}]({contact.url})"
        line = f"{number}. **{name}**" + (f": {contact.why}" if contact.why else "")
        blocks.append(text_block(line, spacing="Small"))
    return blocks


def citations_from_json(items: Iterable[dict[str, Any]]) -> list[Citation]:
    return [
        Citation(
            section=str(item.get("section", "")),
            title=str(item.get("title", "")),
            quote=str(item.get("quote", "")),
            score=float(item.get("score", 0.0) or 0.0),
        )
        for item in items
        if isinstance(item, dict) and item.get("quote")
    ]


def contacts_from_json(items: Iterable[dict[str, Any]]) -> list[ContactRef]:
    return [
        ContactRef(
            id=str(item.get("id", "")),
            name=str(item.get("name") or item.get("id", "")),
            why=str(item.get("why", "")),
            url=item.get("url"),
        )
        for item in items
        if isinstance(item, dict)
    ]


def card(body: list[Json], fallback: str) -> Json:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": shorten(fallback, 1000),
        "body": body,
    }


def answer_body(answer: Answer, full_text: str = "") -> list[Json]:
    """Anything said before the answer (e.g. that an old assessment expired), the answer, its sources."""
    body = []
    before = full_text.find(answer.answer) if answer.answer else -1
    if before > 0 and full_text[:before].strip():
        body += paragraphs(full_text[:before].strip(), isSubtle=True)
    body += paragraphs(answer.answer)
    if answer.notice:
        body.append(text_block(answer.notice, isSubtle=True, size="Small"))
    language = answer.language
    return body + citation_blocks(answer.citations, language) + contact_blocks(answer.contacts, language)


def question_body(reply: Reply) -> list[Json]:
    """What ribot understood so far, then the question; the plain text's numbered choices and typing hint
    are left out because the buttons replace them."""
    question = reply.question or {}
    asked = str(question.get("text") or "")
    blocks = reply.text.split("\n\n")
    at = next((i for i, block in enumerate(blocks) if asked and block.startswith(asked)), None)
    if at is None:
        return [text_block(reply.text)]
    body = paragraphs("\n\n".join(blocks[:at]), isSubtle=True)
    body.append(text_block(asked, weight="Bolder"))
    help_text = question.get("help")
    if isinstance(help_text, str) and help_text:
        body.append(text_block(help_text, isSubtle=True, size="Small"))
    return body


def question_choices(reply: Reply) -> list[Choice]:
    """The reply's buttons; a question without any gets one per choice of its slot."""
    if reply.actions:
        return list(reply.actions)
    question = reply.question or {}
    slot = question.get("slot", "")
    return [
        Choice(f"triage:answer:{slot}:{c['value']}", str(c.get("label") or c["value"]))
        for c in question.get("choices", [])
        if isinstance(c, dict) and "value" in c
    ]


_SOURCE_LINE = re.compile(r'^\[[0-9a-z.]+\] ["“]')
_NUMBERED_LINE = re.compile(r"^\d+\. ")


def _is_sources(lines: list[str]) -> bool:
    return len(lines) > 1 and all(_SOURCE_LINE.match(line) for line in lines[1:])


def _is_contacts(lines: list[str], count: int) -> bool:
    return count > 0 and len(lines) == count + 1 and all(_NUMBERED_LINE.match(line) for line in lines[1:])


def outcome_body(reply: Reply) -> list[Json]:
    """The outcome's text, with its source and contact lists shown as quoted passages and ordered contacts."""
    outcome = reply.outcome or {}
    contacts = contacts_from_json(outcome.get("contacts") or [])
    keys = key_lines(reply)
    body: list[Json] = []
    for block in reply.text.split("\n\n"):
        rows = block.splitlines()
        if not rows or _is_sources(rows) or _is_contacts(rows, len(contacts)):
            continue
        body += [_emphasised(row) if row["text"] in keys else row for row in lines(block)]
    if not body:
        body = paragraphs(reply.text)
    language = language_of(reply)
    body += contact_blocks(contacts, language)
    body += citation_blocks(citations_from_json(outcome.get("citations") or []), language)
    return body


def _emphasised(row: Json) -> Json:
    return row | {"weight": "Bolder", "color": "Accent"}


def coordinator_body(reply: Reply) -> list[Json]:
    reference = str(reply.data.get("reference") or "")
    message = str(reply.data.get("message") or reply.text)
    heading = label("coordinator", language_of(reply)) + (f" ({reference})" if reference else "")
    return [text_block(heading, weight="Bolder"), *paragraphs(message, plain=True)]


def reply_card(reply: Reply) -> Json:
    """The Adaptive Card for one reply."""
    if reply.kind == "answer" and reply.answer is not None:
        body = answer_body(reply.answer, reply.text)
        choices = list(reply.actions)
    elif reply.kind == "question":
        body = question_body(reply)
        choices = question_choices(reply)
    elif reply.kind == "outcome":
        body = outcome_body(reply)
        choices = list(reply.actions)
    elif reply.data.get("from") == "coordinator":
        body = coordinator_body(reply)
        choices = list(reply.actions)
    else:
        # Messages that may carry a user's or a colleague's words are never read as markdown.
        style = {"color": "Attention"} if reply.kind == "error" else {}
        body = paragraphs(reply.text, plain=True, **style)
        choices = list(reply.actions)
    return card(body + action_rows(choices), reply.text)


def announcement_card(notice: EscalationNotice) -> Json:
    facts = [
        {"title": "Reference", "value": notice.reference},
        {"title": "Category", "value": notice.category},
        {"title": "From", "value": notice.platform},
        {"title": "Opened", "value": notice.created_at.strftime("%Y-%m-%d %H:%M UTC")},
    ]
    body: list[Json] = [
        text_block("New escalation for the network coordinators", weight="Bolder", size="Medium"),
        {"type": "FactSet", "facts": facts},
        plain_block(shorten(notice.text, 3000)),
    ]
    result = card(body, notice.text)
    if notice.review_url and notice.review_url.startswith(("https://", "http://")):
        open_console = {"type": "Action.OpenUrl", "title": "Open in the console", "url": notice.review_url}
        result["actions"] = [open_console]
    return result


def fits(card_json: Json) -> bool:
    return len(json.dumps(card_json, ensure_ascii=False).encode("utf-8")) <= MAX_CARD_BYTES


def needs_card(reply: Reply) -> bool:
    """Every reply is a card (line breaks and plain text survive there) except the markdown summary."""
    return not reply.data.get("summary")
