"""What ribot says while handing a conversation to a person, in the conversation's language (English or
Swedish), and how an escalation gets its category. The buttons the hand-over shares with the rest of the
conversation ("Talk to a person", "Cancel") take their labels from the flow's messages, the one bilingual
source of labels, so a text never names a button in another language than the button itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.types import Choice, Reply
from knowledge.triage_flow import Flow
from knowledge.types import Text

START = "escalate:start"
CONSENT_YES = "escalate:consent:yes"
CONSENT_NO = "escalate:consent:no"
CANCEL = "escalate:cancel"

MESSAGES: dict[str, Text] = {
    "ask_note": Text(
        en="I can pass this conversation to the network coordinator at the International Office, who will "
        "answer you here. In a few sentences, what do you need help with? Please leave out personal "
        "identity numbers and other personal details.",
        sv="Jag kan lämna över samtalet till nätverkets samordnare vid Internationella kansliet, som svarar "
        "dig här. Vad behöver du hjälp med? Beskriv det med några meningar och utelämna personnummer och "
        "andra personuppgifter.",
    ),
    "note_empty": Text(
        en="I need a few words about what you need help with before I pass this on. What is it about?",
        sv="Jag behöver några ord om vad du behöver hjälp med innan jag lämnar över. Vad gäller det?",
    ),
    "note_too_long": Text(
        en="That note is longer than {limit} characters. Please shorten it to the essentials; the "
        "coordinator also sees our conversation.",
        sv="Meddelandet är längre än {limit} tecken. Korta det gärna till det viktigaste; samordnaren ser "
        "också vårt samtal.",
    ),
    "redacted": Text(
        en="I removed personal details (identity numbers, e-mail addresses or phone numbers) from your note "
        "before saving it.",
        sv="Jag tog bort personuppgifter (personnummer, e-postadresser eller telefonnummer) ur ditt "
        "meddelande innan jag sparade det.",
    ),
    "consent_known": Text(
        en="May I share {what} ({who}) with the coordinator, so they can contact you directly? Either way, "
        "their answer will come here.",
        sv="Får jag dela {what} ({who}) med samordnaren, så att hen kan kontakta dig direkt? Svaret kommer "
        "hit i vilket fall.",
    ),
    "consent_unknown": Text(
        en="The coordinator's answer will come here in this chat. May I also share who you are, as far as "
        "this chat knows it, so they can contact you directly?",
        sv="Samordnarens svar kommer hit i den här chatten. Får jag också dela vem du är, så långt chatten "
        "vet det, så att hen kan kontakta dig direkt?",
    ),
    "consent_repeat": Text(en="Please answer yes or no, or cancel.", sv="Svara ja eller nej, eller avbryt."),
    "sent": Text(
        en="Done: I passed this to the network coordinator at the International Office. Your reference is "
        "{reference}. Their answer will appear in this conversation.",
        sv="Klart: jag har lämnat över detta till nätverkets samordnare vid Internationella kansliet. Ditt "
        "referensnummer är {reference}. Svaret kommer i det här samtalet.",
    ),
    "already_sent": Text(
        en="This request was already passed on to the network coordinator; your reference is {reference}. "
        "Their answer will appear in this conversation.",
        sv="Förfrågan är redan överlämnad till nätverkets samordnare; ditt referensnummer är {reference}. "
        "Svaret kommer i det här samtalet.",
    ),
    "shared_identity": Text(
        en="You agreed to share {what} ({who}) with them.",
        sv="Du gick med på att dela {what} ({who}) med samordnaren.",
    ),
    "shared_nothing_known": Text(
        en="This chat does not know your name or e-mail address, so they see only this conversation and "
        "your note.",
        sv="Den här chatten känner inte till ditt namn eller din e-postadress, så samordnaren ser bara det "
        "här samtalet och ditt meddelande.",
    ),
    "shared_anonymous": Text(
        en="They see this conversation and your note; your name and e-mail address were not shared.",
        sv="Samordnaren ser det här samtalet och ditt meddelande; ditt namn och din e-postadress delades inte.",
    ),
    "cancelled": Text(
        en="Cancelled. Nothing was sent to the coordinator.", sv="Avbrutet. Inget skickades till samordnaren."
    ),
    "nothing_open": Text(
        en="There is no request to a person open in this conversation.",
        sv="Det finns ingen öppen förfrågan om en person i det här samtalet.",
    ),
    "expired": Text(
        en='That request to a person is no longer open. Press "{person}" to start a new one.',
        sv='Den förfrågan om en person är inte längre öppen. Tryck på "{person}" för att göra en ny.',
    ),
    "unknown_action": Text(
        en='I did not recognise that button. Press "{person}" to ask for a person.',
        sv='Jag kände inte igen den knappen. Tryck på "{person}" för att be om en person.',
    ),
    "label_share": Text(en="Yes, share", sv="Ja, dela"),
    "label_anonymous": Text(en="No, stay anonymous", sv="Nej, förbli anonym"),
    "name": Text(en="your name", sv="ditt namn"),
    "email": Text(en="your e-mail address", sv="din e-postadress"),
    "name_and_email": Text(en="your name and e-mail address", sv="ditt namn och din e-postadress"),
}
# The replies of these states do not hand anything over: the request ended, or never was.
NOT_HANDED_OVER = frozenset({"cancelled", "nothing_open", "expired", "unknown_action"})


@dataclass(frozen=True)
class Voice:
    """The hand-over's texts and buttons in one conversation's language."""

    flow: Flow
    language: str

    def text(self, key: str, **values: Any) -> str:
        text = MESSAGES[key].get(self.language)
        return text.format(person=self.flow.say("label_person", self.language), **values)

    def reply(self, key: str, actions: list[Choice] | None = None, **values: Any) -> Reply:
        data = {"state": key, "handover": key not in NOT_HANDED_OVER}
        return Reply(kind="escalation", text=self.text(key, **values), actions=actions or [], data=data)

    def start(self) -> Choice:
        return Choice(START, self.flow.say("label_person", self.language))

    def cancel(self) -> Choice:
        return Choice(CANCEL, self.flow.say("label_cancel", self.language))

    def consent_choices(self) -> list[Choice]:
        share, anonymous = self.text("label_share"), self.text("label_anonymous")
        return [Choice(CONSENT_YES, share), Choice(CONSENT_NO, anonymous), self.cancel()]

    def identity(self, name: str | None, email: str | None) -> tuple[str, str]:
        """What of the user's identity a surface knows, said plainly ("your name"), and its values."""
        what = "name_and_email" if name and email else "name" if name else "email"
        return self.text(what), ", ".join(x for x in (name, email) if x)

    def shared(self, shared: bool, name: str | None, email: str | None) -> str:
        """What the coordinator actually received about who the user is."""
        if not shared:
            return self.text("shared_anonymous")
        if not (name or email):
            return self.text("shared_nothing_known")
        what, who = self.identity(name, email)
        return self.text("shared_identity", what=what, who=who)


_KEYWORDS: list[tuple[str, re.Pattern[str]]] = [
    ("animals", re.compile(r"\b(?:animal|djur|försöksdjur|mice|mouse|rats?|möss|råttor)", re.IGNORECASE)),
    (
        "security",
        re.compile(
            r"\b(?:security|säkerhet|export control|exportkontroll|dual[- ]use|espionage|spionage|sanction)",
            re.IGNORECASE,
        ),
    ),
    ("ethics", re.compile(r"\b(?:ethic|etik|etisk|human rights|mänskliga rättigheter)", re.IGNORECASE)),
    (
        "research",
        re.compile(
            r"\b(?:research|forskning|collaborat|samarbete|phd|doktorand|grant|project|mou|agreement|avtal)",
            re.IGNORECASE,
        ),
    ),
    (
        "education",
        re.compile(
            r"\b(?:course|programme|program|student|exchange|utbildning|kurs|utbyte|teaching)", re.IGNORECASE
        ),
    ),
]


def _from_slots(flow: Flow, known: dict[str, Any], *, concerns: bool) -> str | None:
    """The category the flow files a known slot value under, among the concern slots or the others."""
    for slot, by_value in flow.categories.items():
        if (slot in flow.concerns) == concerns and known.get(slot) in by_value:
            return by_value[known[slot]]
    return None


def category_for(
    flow: Flow, reason: str, known: dict[str, Any], note: str, transcript: list[dict[str, Any]]
) -> str:
    """general, research, education, ethics, security or animals: the assessment's concerns first, then
    the reason the offer was made, then the other slots, then the words of the note and of the user's
    messages."""
    concern = _from_slots(flow, known, concerns=True)
    if concern:
        return concern
    if reason in ("ethics", "security"):
        return reason
    found = _from_slots(flow, known, concerns=False)
    if found:
        return found
    user_text = " ".join(str(m.get("text", "")) for m in transcript if m.get("role") == "user")
    for text in (note, user_text):
        for category, pattern in _KEYWORDS:
            if pattern.search(text):
                return category
    return "general"
