"""What ribot says at the edge, before or instead of the conversation engine, in the languages it answers in.
Plain text: each surface escapes it for its own markup. A text that names a button ("Talk to a person") takes
the button's label from the flow's messages (knowledge/triage_flow.yaml), the one bilingual source of the
labels the conversation's buttons carry, so a notice never names a button in words the button does not show.
"""

from __future__ import annotations

from knowledge.triage_flow import default_flow

LANGUAGES = ("en", "sv")
# Places in the texts below and the flow message whose label fills them.
BUTTONS = {"person": "label_person"}

TEXTS: dict[str, dict[str, str]] = {
    "empty": {
        "en": "Ask me a question about responsible internationalisation at KI, for example “Who do I contact "
        "about animal experiments abroad?”, or say “assess” to start an assessment.",
        "sv": "Ställ en fråga om ansvarsfull internationalisering vid KI, till exempel ”Vem kontaktar jag om "
        "djurförsök utomlands?”, eller skriv ”bedöm” för att starta en bedömning.",
    },
    "stale_button": {
        "en": "That button is no longer valid. Type your question, or ask me to start over.",
        "sv": "Den knappen gäller inte längre. Skriv din fråga, eller be mig börja om.",
    },
    "too_long": {
        "en": "Your message is {length} characters long; I read messages of up to {limit} characters. "
        "Please send a shorter question.",
        "sv": "Ditt meddelande är {length} tecken långt; jag läser meddelanden på högst {limit} tecken. "
        "Skicka en kortare fråga.",
    },
    "limited": {
        "en": "You are sending messages faster than I can answer them. Please wait a moment and try again.",
        "sv": "Du skickar meddelanden snabbare än jag hinner svara. Vänta en stund och försök igen.",
    },
    "failed": {
        "en": "Sorry, something went wrong on my side and I could not answer. Please try again in a moment, "
        "or use “{person}” to reach the network coordinators.",
        "sv": "Något gick fel hos mig och jag kunde inte svara. Försök igen om en stund, eller välj "
        "”{person}” för att nå nätverkets samordnare.",
    },
    "not_ready": {
        "en": "ribot is still starting or could not load its knowledge base. Please try again shortly.",
        "sv": "ribot startar fortfarande eller kunde inte läsa in sin kunskapsbas. Försök igen om en stund.",
    },
    "help": {
        "en": "I answer questions about KI's guidelines for responsible internationalisation, quote the "
        "sections I rely on and tell you who can help. Say “assess” to walk through a short assessment "
        "of a planned collaboration.",
        "sv": "Jag svarar på frågor om KI:s riktlinjer för ansvarsfull internationalisering, citerar de "
        "avsnitt jag stöder mig på och berättar vem som kan hjälpa dig. Skriv ”bedöm” för en kort "
        "bedömning av ett planerat samarbete.",
    },
}


def say(name: str, language: str, **values: object) -> str:
    """The text `name` in `language` (English for one ribot does not answer in), its places filled."""
    language = language if language in LANGUAGES else "en"
    flow = default_flow()
    labels = {place: flow.say(message, language) for place, message in BUTTONS.items()}
    numbers = {key: _number(value, language) for key, value in values.items()}
    return TEXTS[name][language].format(**labels, **numbers)


def _number(value: object, language: str) -> object:
    """Whole numbers grouped as the language writes them: 8,000 in English, 8 000 in Swedish."""
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    grouped = f"{value:,}"
    return grouped.replace(",", "\u00a0") if language == "sv" else grouped
