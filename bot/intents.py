"""What a message is, before its content is read: a command, a question, a described plan, a yes or a no.
English and Swedish."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.slots import normalise

_COMMANDS: dict[str, re.Pattern[str]] = {
    "help": re.compile(
        r"^(?:help|help me|hjälp|\?|what can you do|vad kan du(?: göra)?|how does this work)$"
    ),
    "back": re.compile(
        r"^(?:back|go back|undo|previous|previous question|tillbaka|bakåt|gå tillbaka|ångra)$"
    ),
    "restart": re.compile(r"^(?:restart|start over|start again|begin again|reset|börja om|starta om)$"),
    "cancel": re.compile(
        r"^(?:cancel|stop|quit|exit|abort|cancel (?:the )?assessment|avbryt|sluta|stopp|avsluta)$"
    ),
    "start": re.compile(
        r"^(?:start|begin|triage|assessment|risk assessment|guide me|"
        r"start (?:the |an |a )?(?:risk )?assessment|"
        r"starta|starta (?:en |den )?(?:risk)?bedömning(?:en)?|bedömning|riskbedömning)$"
    ),
    "summary": re.compile(
        r"^(?:summary|download(?: a| the)? summary|show(?: me)?(?: a| the)? summary|sammanfattning|"
        r"ladda ner(?: en| sammanfattningen)?(?: sammanfattning)?)$"
    ),
}
_PERSON = re.compile(
    r"\b(?:talk|speak|chat|get in touch)\s+(?:to|with)\s+(?:a |an |some |the )?(?:real )?"
    r"(?:person|human|someone|"
    r"somebody|people|coordinator|network coordinator)\b|^(?:person|human|a person|a human|agent|människa)$|"
    r"\bprata med (?:en |någon )?(?:person|människa|handläggare|samordnare\w*)\b|\bprata med någon\b|"
    r"\bkontakta en (?:person|människa)\b|\bhuman please\b"
)
_UNKNOWN_COMMAND = re.compile(r"^[/!](\w[\w-]*)")
_QUESTION_START = re.compile(
    r"^(?:who|whom|whose|what|when|where|why|how|which|can|could|does|do|is|are|should|must|may|will|would|"
    r"vem|vilka|vilken|vilket|vad|när|var|varför|hur|kan|får|måste|ska|bör|behöver|finns|gäller)\b"
)
_PLAN = re.compile(
    r"\b(?:plan|planning|planned|going to|about to|will|want to|would like to|wish to|intend|hope to|"
    r"thinking of|"
    r"considering|preparing|setting up|set up|start(?:ing)?|establish|sign|signing|formalis\w+|formaliz\w+|"
    r"planerar|ska|vill|tänker|kommer att|funderar på|förbereder|inleda|starta)\b"
)
_COLLABORATION = re.compile(
    r"\b(?:collaborat\w+|cooperat\w+|partner\w*|agreement|mou|contract|exchange|joint|study visit|"
    r"project with|"
    r"work(?:ing)? with|samarbet\w+|avtal\w*|utbyte\w*|partner\w*|studiebesök|gemensam\w*)\b"
)
_AFFIRM = re.compile(
    r"^(?:yes|yeah|yep|sure|ok|okay|please|yes please|go ahead|let's go|let's start|start|sounds good|"
    r"ja|ja tack|"
    r"gärna|kör|okej|absolut|visst)\b"
)
_UNSURE = re.compile(
    r"^(?:i )?(?:don't|do not|dont) know\b|^(?:i'm |i am )?(?:not sure|unsure)\b|^no idea\b|"
    r"^(?:jag )?vet inte\b|^(?:jag är )?osäker\b|^ingen aning\b"
)
_DECLINE = re.compile(r"^(?:no|nope|no thanks|not now|later|nej|nej tack|inte nu|senare)\b")


@dataclass(frozen=True)
class Command:
    name: str  # help, back, restart, cancel, start, summary, person or unknown
    argument: str = ""


def command(raw: str) -> Command | None:
    text = normalise(raw).strip(" .!")
    unknown = _UNKNOWN_COMMAND.match(text)
    if unknown:
        name = unknown.group(1)
        known = {"help", "back", "restart", "cancel", "start", "summary"}
        return Command(name) if name in known else Command("unknown", unknown.group(0))
    if _PERSON.search(text):
        return Command("person")
    for name, pattern in _COMMANDS.items():
        if pattern.match(text):
            return Command(name)
    return None


def is_question(raw: str) -> bool:
    text = normalise(raw).strip()
    return text.endswith("?") or bool(_QUESTION_START.match(text))


def describes_plan(raw: str) -> bool:
    """A message about an activity the user is planning ("I'm planning a collaboration with ...")."""
    text = normalise(raw)
    return bool(_PLAN.search(text) and _COLLABORATION.search(text))


def affirms(raw: str) -> bool:
    return bool(_AFFIRM.match(normalise(raw)))


def unsure(raw: str) -> bool:
    """ "I don't know", "not sure", "vet inte"."""
    return bool(_UNSURE.match(normalise(raw)))


def declines(raw: str) -> bool:
    return bool(_DECLINE.match(normalise(raw)))
