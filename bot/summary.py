"""A summary of an assessment to keep or forward: Markdown and a printable HTML page with the situation as
understood, the outcome, the risk-area checklist, the citations, the date and the guideline version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from bot.triage_text import role_label, understood_lines
from knowledge.triage_flow import Flow

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#|<>~])")
MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class Summary:
    markdown: str
    html: str
    filename: str  # without extension

    def to_json(self) -> dict[str, str]:
        return {"markdown": self.markdown, "html": self.html, "filename": self.filename}


def guideline_version() -> str:
    from knowledge.corpus import guidelines

    meta = guidelines().meta
    parts = [str(meta.get("title", "")), f"Dnr {meta.get('dnr', '?')}"]
    if meta.get("decision_date"):
        parts.append(f"{meta['decision_date']}")
    return ", ".join(p for p in parts if p)


def _plain(text: str) -> str:
    """User text as inert Markdown: one line, markup characters escaped."""
    flat = " ".join(text.split())[:MAX_DESCRIPTION]
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _role_lines(flow: Flow, outcome: dict[str, Any], language: str) -> list[tuple[str, str]]:
    lines = [
        (flow.say(k, language), role_label(flow, outcome.get(k), language))
        for k in ("responsible", "report_to")
    ]
    for key, label in (("decides", "decides"), ("ultimate_responsibility", "ultimate")):
        if outcome.get(key):
            lines.append((flow.say(label, language), role_label(flow, outcome[key], language)))
    lines += [
        (flow.say("raise_with", language), role_label(flow, r, language))
        for r in outcome.get("raise_with", [])
    ]
    return lines


def markdown(flow: Flow, outcome: dict[str, Any], language: str, day: date, description: str | None) -> str:
    def say(key: str) -> str:
        return flow.say(key, language)

    out = [f"# {say('summary_title')}", "", f"**{say('date')}:** {day.isoformat()}  "]
    out += [f"**{say('guideline_version')}:** {guideline_version()}", "", f"## {say('situation')}", ""]
    out += understood_lines(flow, outcome["slots"], language)
    if description:
        out += ["", f"{say('your_words')}: “{_plain(description)}”"]
    out += ["", f"## {say('outcome_intro')}", ""]
    out += [f"- **{label}:** {value}" for label, value in _role_lines(flow, outcome, language)]
    out += ["", f"## {say('what_applies')}", ""]
    out += [f"- {s['text']} ({', '.join(s['sections'])})" for s in outcome["statements"]]
    out += ["", f"## {say('contacts')}", ""]
    out += [f"{n}. **{c['name']}**: {c['why']}" for n, c in enumerate(outcome["contacts"], start=1)]
    out += ["", f"## {say('risk_areas')}", "", say("checklist_hint"), ""]
    out += [f"- [ ] **{a['title']}**: {a['prompt']}" for a in outcome["risk_checklist"]]
    out += ["", f"## {say('sources')}", ""]
    out += [f"- **{c['section']} {c['title']}**: “{c['quote']}”" for c in outcome["citations"]]
    out += ["", f"_{say('no_verdict')}_", ""]
    return "\n".join(out)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.5rem; color: #4f0433; } h2 { font-size: 1.15rem; margin-top: 1.6rem; color: #4f0433; }
dl.roles dt { font-weight: 600; } dl.roles dd { margin: 0 0 .5rem 0; }
ul.checklist { list-style: none; padding-left: 0; } ul.checklist li::before { content: "\\2610  "; }
blockquote { margin: .3rem 0 .8rem 0; padding-left: .8rem; border-left: 3px solid #ccc; color: #444; }
.meta, .verdict { color: #555; font-size: .95rem; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def html(flow: Flow, outcome: dict[str, Any], language: str, day: date, description: str | None) -> str:
    def say(key: str) -> str:
        return escape(flow.say(key, language))

    situation = "".join(
        f"<li>{escape(line[2:])}</li>" for line in understood_lines(flow, outcome["slots"], language)
    )
    words = (
        f"<p>{say('your_words')}: “{escape(' '.join(description.split())[:MAX_DESCRIPTION])}”</p>"
        if description
        else ""
    )
    roles = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _role_lines(flow, outcome, language)
    )
    statements = "".join(
        f"<li>{escape(s['text'])} ({escape(', '.join(s['sections']))})</li>" for s in outcome["statements"]
    )
    contacts = "".join(
        f"<li><strong>{escape(c['name'])}</strong>: {escape(c['why'])}</li>" for c in outcome["contacts"]
    )
    areas = "".join(
        f"<li><strong>{escape(a['title'])}</strong>: {escape(a['prompt'])}</li>"
        for a in outcome["risk_checklist"]
    )
    sources = "".join(
        f"<li><strong>{escape(c['section'])} {escape(c['title'])}</strong>"
        f"<blockquote>{escape(c['quote'])}</blockquote></li>"
        for c in outcome["citations"]
    )
    return f"""<!DOCTYPE html>
<html lang="{escape(language)}"><head><meta charset="utf-8"><title>{say("summary_title")}</title>
<style>{_CSS}</style></head><body>
<h1>{say("summary_title")}</h1>
<p class="meta">{say("date")}: {day.isoformat()}<br>
{say("guideline_version")}: {escape(guideline_version())}</p>
<h2>{say("situation")}</h2><ul>{situation}</ul>{words}
<h2>{say("outcome_intro")}</h2><dl class="roles">{roles}</dl>
<h2>{say("what_applies")}</h2><ul>{statements}</ul>
<h2>{say("contacts")}</h2><ol>{contacts}</ol>
<h2>{say("risk_areas")}</h2><p>{say("checklist_hint")}</p><ul class="checklist">{areas}</ul>
<h2>{say("sources")}</h2><ul>{sources}</ul>
<p class="verdict"><em>{say("no_verdict")}</em></p>
</body></html>
"""


def build_summary(
    flow: Flow, outcome: dict[str, Any], language: str, day: date, description: str | None = None
) -> Summary:
    return Summary(
        markdown=markdown(flow, outcome, language, day, description),
        html=html(flow, outcome, language, day, description),
        filename=f"ribot-assessment-{day.isoformat()}",
    )
