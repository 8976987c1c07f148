"""Block Kit rendering of ribot's replies: each `Reply` becomes one or more Slack messages
(`{"text": fallback, "blocks": [...]}`) within Slack's limits. All text from the core is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.types import Choice, Citation, ContactRef, Reply
from connectors.key_lines import key_lines
from connectors.slack.text import CONTEXT_LIMIT, FALLBACK_LIMIT, SECTION_LIMIT, escape, shorten, split

Block = dict[str, Any]
Message = dict[str, Any]

MAX_BLOCKS = 50
MAX_BUTTONS = 25
MAX_QUOTES = 6
BUTTON_LABEL_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ACTION_PREFIX = "ribot:"
LINK_PREFIX = "ribot_link:"
_SECONDARY = ("feedback:", "escalate:", "triage:back", "triage:restart", "triage:cancel", "summary:")

# The few words messages add around the core's text, in the languages the core answers in.
LABELS = {
    "en": {
        "also_cited": "Also cited",
        "who_can_help": "Who can help",
        "continued": "(continued)",
        "summary": "*Summary of your assessment* (`{file}.md`): copy it from here to keep or forward it.",
    },
    "sv": {
        "also_cited": "Citeras också",
        "who_can_help": "Vem som kan hjälpa",
        "continued": "(fortsättning)",
        "summary": "*Sammanfattning av din bedömning* (`{file}.md`): kopiera den härifrån för att spara "
        "eller skicka vidare.",
    },
}


def label(key: str, language: str) -> str:
    return LABELS.get(language, LABELS["en"])[key]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, BUTTON_LABEL_LIMIT) or " ", "emoji": True}


def section(text: str) -> list[Block]:
    """One section per piece of `text` (already mrkdwn) that fits Slack's 3000-character limit."""
    return [{"type": "section", "text": mrkdwn(piece)} for piece in split(text, SECTION_LIMIT)]


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(shorten(text, CONTEXT_LIMIT))]}


def button(choice: Choice, action_id: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(choice.label),
        "value": choice.value[:BUTTON_VALUE_LIMIT],
    }
    if choice.value.startswith("triage:answer:") or choice.value == "triage:start":
        element["style"] = "primary"
    return element


def link_button(label: str, url: str, action_id: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(label), "url": url[:3000]}


def render(reply: Reply) -> list[Message]:
    """The Slack messages for one reply; usually one, more when a long answer needs more than 50 blocks."""
    body = _body(reply)
    buttons = _action_blocks(_actions(reply))
    return _pack(body, buttons, _fallback(reply), reply.language)


def render_all(replies: Iterable[Reply]) -> list[Message]:
    return [message for reply in replies for message in render(reply)]


def _body(reply: Reply) -> list[Block]:
    language = reply.language
    if reply.kind == "answer" and reply.answer is not None:
        answer = reply.answer
        blocks = section(escape(answer.answer))
        if answer.notice:
            blocks.append(context("_" + escape(answer.notice) + "_"))
        return (
            blocks + citation_blocks(answer.citations, language) + contact_blocks(answer.contacts, language)
        )
    if reply.kind == "question" and reply.question is not None:
        return section("*" + escape(str(reply.question.get("text") or reply.text)) + "*")
    if reply.kind == "outcome" and reply.outcome is not None:
        outcome = reply.outcome
        cites = [_citation(c) for c in outcome.get("citations") or [] if isinstance(c, Mapping)]
        people = [_contact(c) for c in outcome.get("contacts") or [] if isinstance(c, Mapping)]
        named = all(person.name in reply.text for person in people)
        body = section(outcome_text(reply, cites)) + citation_blocks(cites, language)
        return body + contact_blocks(people, language, with_text=not named)
    summary = reply.data.get("summary")
    if isinstance(summary, Mapping) and isinstance(summary.get("markdown"), str):
        filename = str(summary.get("filename") or "summary")
        return summary_blocks(str(summary["markdown"]), filename, language)
    return section(escape(reply.text)) or section(" ")


def summary_blocks(markdown: str, filename: str, language: str = "en") -> list[Block]:
    """An assessment summary as Markdown source in code blocks, ready to copy into a document or e-mail."""
    intro = label("summary", language).format(file=escape(filename))
    fence = "`" * 3
    pieces = split(escape(markdown.replace(fence, "'" * 3)), SECTION_LIMIT - 8)
    return [*section(intro), *({"type": "section", "text": mrkdwn(fence + p + fence)} for p in pieces)]


def citation_blocks(citations: Iterable[Citation], language: str = "en") -> list[Block]:
    """The quoted passages, best first, each in a context block headed by its section; past
    MAX_QUOTES the remaining sections are only named."""
    citations = list(citations)
    blocks: list[Block] = []
    for cite in citations[:MAX_QUOTES]:
        heading = f"*{escape(_where(cite))}*"
        quote = shorten(escape(" ".join(cite.quote.split())), CONTEXT_LIMIT - len(heading) - 8)
        blocks.append(context(f"{heading}\n>{quote}"))
    rest = list(dict.fromkeys(_where(c, short=True) for c in citations[MAX_QUOTES:]))
    if rest:
        blocks.append(context(f"{label('also_cited', language)}: " + escape(", ".join(rest))))
    return blocks


def _where(cite: Citation, short: bool = False) -> str:
    """'§4.4 KI's Animal Welfare Body'; footnotes and the document's own data by their title."""
    if cite.titled_alone:
        return cite.title.split(":")[0] if short else cite.title
    return f"§{cite.section}" if short else f"§{cite.section} {cite.title}".strip()


def outcome_text(reply: Reply, citations: list[Citation]) -> str:
    """The outcome's text as mrkdwn: headings and the key lines (who carries out, is told, decides) in
    bold, checkboxes drawn, and the paragraph listing the sources left out because the quoted passages
    follow as context blocks."""
    quoted = {f'[{c.section}] "{c.quote}"' for c in citations}
    keys = key_lines(reply)
    paragraphs = []
    for paragraph in reply.text.split("\n\n"):
        heading, *lines = paragraph.split("\n")
        if lines and quoted and all(line in quoted for line in lines):
            continue
        bold = bool(lines and heading.endswith(":")) or heading in keys
        rows = [f"*{escape(heading)}*" if bold else escape(heading)]
        rows += [
            f"*{escape(line)}*" if line in keys else escape(line.replace("[ ] ", "☐ ", 1)) for line in lines
        ]
        paragraphs.append("\n".join(rows))
    return "\n\n".join(paragraphs)


def contact_blocks(
    contacts: Iterable[ContactRef], language: str = "en", with_text: bool = True
) -> list[Block]:
    contacts = list(contacts)
    if not contacts:
        return []
    blocks: list[Block] = []
    if with_text:
        lines = [
            f"• *{escape(c.name)}*: {escape(c.why)}" if c.why else f"• *{escape(c.name)}*" for c in contacts
        ]
        blocks += section(f"*{label('who_can_help', language)}*\n" + "\n".join(lines))
    links = [c for c in contacts if c.url][:MAX_BUTTONS]
    if links:
        elements = [link_button(c.name, c.url or "", f"{LINK_PREFIX}{i}") for i, c in enumerate(links)]
        blocks.append({"type": "actions", "block_id": "ribot_contacts", "elements": elements})
    return blocks


def _citation(data: Mapping[str, Any]) -> Citation:
    return Citation(
        section=str(data.get("section", "")),
        title=str(data.get("title", "")),
        quote=str(data.get("quote", "")),
        score=float(data.get("score") or 0.0),
    )


def _contact(data: Mapping[str, Any]) -> ContactRef:
    url = data.get("url")
    return ContactRef(
        id=str(data.get("id", "")),
        name=str(data.get("name") or data.get("id", "")),
        why=str(data.get("why") or ""),
        url=str(url) if url else None,
    )


def _actions(reply: Reply) -> list[Choice]:
    actions = list(reply.actions)
    if not actions and reply.kind == "question" and reply.question is not None:
        slot = reply.question.get("slot")
        for choice in reply.question.get("choices") or []:
            actions.append(Choice(f"triage:answer:{slot}:{choice['value']}", str(choice["label"])))
    return actions


def _action_blocks(actions: list[Choice]) -> list[Block]:
    primary = [a for a in actions if not a.value.startswith(_SECONDARY)]
    secondary = [a for a in actions if a.value.startswith(_SECONDARY)]
    blocks: list[Block] = []
    for group in (primary, secondary):
        for start in range(0, len(group), MAX_BUTTONS):
            number = len(blocks)
            chunk = group[start : start + MAX_BUTTONS]
            elements = [button(c, f"{ACTION_PREFIX}{number}:{i}") for i, c in enumerate(chunk)]
            blocks.append({"type": "actions", "block_id": f"ribot_actions_{number}", "elements": elements})
    return blocks


def _fallback(reply: Reply) -> str:
    return shorten(escape(reply.text or (reply.answer.answer if reply.answer else "")), FALLBACK_LIMIT)


def _pack(body: list[Block], buttons: list[Block], fallback: str, language: str) -> list[Message]:
    """Spreads the blocks over as many messages as needed; the buttons stay together in the last one."""
    messages: list[Message] = []
    current: list[Block] = []
    for block in body:
        if len(current) == MAX_BLOCKS:
            messages.append({"text": fallback, "blocks": current})
            current = []
        current.append(block)
    if len(current) + len(buttons) > MAX_BLOCKS:
        messages.append({"text": fallback, "blocks": current})
        current = []
    current += buttons
    if current or not messages:
        messages.append({"text": fallback, "blocks": current})
    for later in messages[1:]:
        later["text"] = label("continued", language)
    return messages


def chosen(blocks: list[Block], block_id: str, value: str, note: str) -> list[Block]:
    """The message's blocks after a click: in the clicked row the buttons of the same kind (both feedback
    buttons, say) give way to a note; the row's other buttons stay."""
    kind = value.split(":", 1)[0] + ":"
    out: list[Block] = []
    for block in blocks:
        if block.get("block_id") != block_id:
            out.append(block)
            continue
        out.append(context(f":white_check_mark: {escape(note)}"))
        rest = [e for e in block.get("elements") or [] if not str(e.get("value") or "").startswith(kind)]
        if rest:
            out.append({**block, "elements": rest})
    return out


def in_place(previous_label: str, message: Message) -> Message:
    """A triage step shown in place of the previous one, headed by the answer the user just gave."""
    blocks = [context(f":white_check_mark: {escape(previous_label)}"), *message["blocks"]][:MAX_BLOCKS]
    return {"text": message["text"], "blocks": blocks}
