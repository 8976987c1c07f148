"""The card ribot shows when it is added to a chat: what it does, and buttons to begin with.

It speaks the language of the user's Teams client (the activity's `locale`) when ribot answers in that one;
otherwise, or when Teams sends no locale, it says everything in both languages, English first. Each button
carries its language (`data.language`), which connectors.teams.edge reads into `Turn.language`: the
conversation a press starts continues in the language of the button pressed. The buttons' labels are the
flow's (knowledge/triage_flow.yaml), the same words the conversation's own buttons show later.
"""

from __future__ import annotations

from bot.types import Choice
from connectors.edge_texts import LANGUAGES
from connectors.teams.cards import ESCALATE_ACTION, TRIAGE_ACTION, Json, card, text_block
from knowledge.triage_flow import default_flow

TEXTS = {
    "en": (
        "Hi, I'm ribot. I answer questions about KI's guidelines for responsible internationalisation, "
        "quoting the sections I rely on, and I can walk you through a short assessment of who is "
        "responsible for a collaboration and whom to contact.",
        "Ask me a question in your own words, or start with one of these.",
    ),
    "sv": (
        "Hej, jag är ribot. Jag svarar på frågor om KI:s riktlinjer för ansvarsfull internationalisering "
        "och citerar de avsnitt jag stöder mig på. Jag kan också guida dig genom en kort bedömning av vem "
        "som ansvarar för ett samarbete och vem du ska kontakta.",
        "Ställ en fråga med egna ord, eller börja med något av detta.",
    ),
}
BUTTONS = ((TRIAGE_ACTION, "label_start"), (ESCALATE_ACTION, "label_person"))


def locale_language(locale: object) -> str | None:
    """'sv-SE' -> 'sv'; None without a locale or for a language ribot does not answer in."""
    if not isinstance(locale, str) or not locale:
        return None
    primary = locale.replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def choices(language: str) -> list[Choice]:
    flow = default_flow()
    return [Choice(action, flow.say(label, language)) for action, label in BUTTONS]


def _submit(choice: Choice, language: str) -> Json:
    data = {"action": choice.value, "language": language}
    return {"type": "Action.Submit", "title": choice.label, "data": data}


def _section(language: str, first: bool) -> list[Json]:
    intro, hint = TEXTS[language]
    opening = text_block(intro) | ({} if first else {"separator": True, "spacing": "Large"})
    actions = [_submit(choice, language) for choice in choices(language)]
    return [opening, text_block(hint, isSubtle=True), {"type": "ActionSet", "actions": actions}]


def welcome_card(locale: object = None) -> Json:
    """The welcome card for a client in `locale` (e.g. the conversationUpdate's "sv-SE")."""
    language = locale_language(locale)
    languages = [language] if language else list(LANGUAGES)
    body = [block for n, code in enumerate(languages) for block in _section(code, n == 0)]
    return card(body, "\n\n".join(TEXTS[code][0] for code in languages))
