"""Plain-text renderings of triage questions and outcomes (every Reply carries one; rich surfaces may render
the structured data instead). All wording comes from the flow file."""

from __future__ import annotations

from typing import Any

from knowledge.triage_flow import Flow


def value_label(flow: Flow, slot: str, value: str, language: str) -> str:
    choice = flow.question(slot).choice(value)
    return choice.label.get(language) if choice else value


def understood_lines(flow: Flow, known: dict[str, str], language: str) -> list[str]:
    return [
        f"- {flow.slot_labels[slot].get(language)}: {_short_value(flow, slot, known[slot], language)}"
        for slot in flow.slots
        if slot in known
    ]


def _short_value(flow: Flow, slot: str, value: str, language: str) -> str:
    if value in ("yes", "no"):
        return flow.say(f"value_{value}", language)
    return value_label(flow, slot, value, language)


def changes_line(flow: Flow, changed: dict[str, str], language: str) -> str:
    parts = [
        f"{flow.slot_labels[s].get(language)}: {_short_value(flow, s, v, language)}"
        for s, v in changed.items()
    ]
    return f"{flow.say('noted', language)} " + "; ".join(parts)


def question_text(
    flow: Flow, question: dict[str, Any], known: dict[str, str], language: str, lead: list[str] | None = None
) -> str:
    blocks = [line for line in lead or [] if line]
    understood = understood_lines(flow, known, language)
    if understood:
        blocks.append("\n".join([flow.say("understood", language), *understood]))
    choices = "\n".join(f"{n}. {c['label']}" for n, c in enumerate(question["choices"], start=1))
    blocks.append(f"{question['text']}\n{choices}")
    hint = flow.say("answer_hint", language)
    if question.get("multiple"):
        hint = f"{flow.say('multiple_hint', language)} {hint}"
    blocks.append(hint)
    return "\n\n".join(blocks)


def role_label(flow: Flow, role: str | None, language: str) -> str:
    return flow.roles[role].get(language) if role else flow.say("nobody_named", language)


def outcome_text(flow: Flow, outcome: dict[str, Any], language: str) -> str:
    roles = [
        f"{flow.say(k, language)}: {role_label(flow, outcome[k], language)}"
        for k in ("responsible", "report_to")
    ]
    if outcome.get("decides"):
        roles.append(f"{flow.say('decides', language)}: {role_label(flow, outcome['decides'], language)}")
    if outcome.get("ultimate_responsibility"):
        roles.append(
            f"{flow.say('ultimate', language)}: "
            f"{role_label(flow, outcome['ultimate_responsibility'], language)}"
        )
    for role in outcome.get("raise_with", []):
        roles.append(f"{flow.say('raise_with', language)}: {role_label(flow, role, language)}")
    statements = [f"- {s['text']} ({', '.join(s['sections'])})" for s in outcome["statements"]]
    contacts = [f"{n}. {c['name']}: {c['why']}" for n, c in enumerate(outcome["contacts"], start=1)]
    areas = [f"[ ] {a['title']}: {a['prompt']}" for a in outcome["risk_checklist"]]
    sources = [f'[{c["section"]}] "{c["quote"]}"' for c in outcome["citations"]]
    blocks = [
        flow.say("outcome_intro", language),
        "\n".join(roles),
        "\n".join([f"{flow.say('what_applies', language)}:", *statements]),
        "\n".join([f"{flow.say('contacts', language)}:", *contacts]),
        "\n".join([f"{flow.say('risk_areas', language)}:", *areas]),
        "\n".join([f"{flow.say('sources', language)}:", *sources]),
        flow.say("no_verdict", language),
    ]
    return "\n\n".join(blocks)
