"""The outcome's key lines (who carries out the risk assessment, who is told, who decides) as they stand in
its plain text, so that every surface can emphasise the same lines. They are found by the labels the flow
file gives them, in the outcome's language."""

from __future__ import annotations

from functools import lru_cache

from bot.types import Reply

KEYS = ("responsible", "report_to", "decides")


@lru_cache(maxsize=8)
def _labels(language: str) -> tuple[str, ...]:
    from knowledge.triage_flow import default_flow

    flow = default_flow()
    return tuple(f"{flow.say(key, language)}:" for key in KEYS)


def key_lines(reply: Reply) -> list[str]:
    """The lines of an outcome's text that say who carries out, who is told and who decides."""
    if reply.kind != "outcome" or not reply.outcome:
        return []
    labels = _labels(str(reply.outcome.get("language") or reply.language))
    return [line for line in reply.text.splitlines() if line.startswith(labels)]
