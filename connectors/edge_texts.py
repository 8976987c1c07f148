"""What ribot says at the edge, before or instead of the conversation engine, in the languages it answers in.
Plain text: each surface escapes it for its own markup."""

from __future__ import annotations

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
        "en": "Your message is {length:,} characters long; I read messages of up to {limit:,} characters. "
        "Please send a shorter question.",
        "sv": "Ditt meddelande är {length:,} tecken långt; jag läser meddelanden på högst {limit:,} tecken. "
        "Skicka en kortare fråga.",
    },
    "limited": {
        "en": "You are sending messages faster than I can answer them. Please wait a moment and try again.",
        "sv": "Du skickar meddelanden snabbare än jag hinner svara. Vänta en stund och försök igen.",
    },
    "failed": {
        "en": "Sorry, something went wrong on my side and I could not answer. Please try again in a moment, "
        "or use “Talk to a person” to reach the network coordinators.",
        "sv": "Något gick fel hos mig och jag kunde inte svara. Försök igen om en stund, eller välj ”Prata "
        "med en person” för att nå nätverkets samordnare.",
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
    text = TEXTS[name].get(language) or TEXTS[name]["en"]
    return text.format(**values) if values else text
