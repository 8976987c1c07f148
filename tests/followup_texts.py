"""One conversation every surface's follow-up tests walk: an informal research collaboration, then the
condition that changes it (an agreement), in English and Swedish. The answer's lead names the individual
researcher first and the research group once there is an agreement (a formalised collaboration, 3.2)."""

from __future__ import annotations

OPENING = (
    "I'm starting an informal research collaboration with a colleague abroad. Who does the risk assessment?"
)
FOLLOW_UP = "and if we sign an agreement with their university?"
SV_OPENING = (
    "Jag startar ett informellt forskningssamarbete med en kollega utomlands. Vem gör riskbedömningen?"
)
SV_FOLLOW_UP = "och om vi skriver avtal med deras universitet?"
NAMES = {
    "en": ("individual researcher", "research group"),
    "sv": ("enskilde forskaren", "forskargruppen"),
}
