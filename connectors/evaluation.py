"""Scores ribot on an evaluation file (the format of `shared/eval/dev2.yaml`): the questions, the
out-of-scope requests, the triage cases and the conversations, each through the same path a user's message
takes, next to the LangChain tutorial baseline measured in the same run.

The figures: Recall@3 and MRR of the cited sections, top-1 section, lead correct (the first paragraph comes
from an expected section and carries the expected fact), premises corrected, routing, answer facts,
language, declines both ways, verbatim quotes, triage outcomes and questions asked, and conversations turn
by turn. Items are grouped by the `# --- kind` comment above them, so each kind gets its own figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.protocol import chat_line, triage_line
from bot.types import Answer, Reply, Turn
from knowledge.verbatim import is_verbatim

GATEKEEPERS = ("network_coordinator", "scientific_ombudsman")
MAX_TRIAGE_QUESTIONS = 20
_GROUP = re.compile(r"^\s*#\s*---\s*(?P<name>[^:\n]+)")
_ITEM_ID = re.compile(r"^\s*-\s*(?:\{\s*)?id:\s*(?P<id>[\w-]+)")


class AnswersMany(Protocol):
    def ask_many(self, questions: list[str]) -> list[Answer]: ...


class Engine(Protocol):
    def handle(self, turn: Turn) -> list[Reply]: ...

    def triage(self, turn: Turn, answers: dict[str, str] | None = None) -> list[Reply]: ...


def groups_of(path: Path) -> dict[str, str]:
    """item id -> the name of the `# --- name: ...` comment block it stands in."""
    found: dict[str, str] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        header = _GROUP.match(line)
        if header:
            current = header["name"].strip()
            continue
        item = _ITEM_ID.match(line)
        if item and current:
            found[item["id"]] = current
    return found


# -- questions ----------------------------------------------------------------------------------------------
def lead_of(answer: Answer) -> str:
    """The answer's first paragraph: what a user reads first."""
    return answer.answer.split("\n\n", 1)[0]


def _mentions(text: str, wanted: Sequence[str]) -> bool:
    low = text.lower()
    return any(w.lower() in low for w in wanted)


def ethics_order_ok(ids: Sequence[str]) -> bool:
    """The Ethics Committee is never listed before both of the contacts that reach it (4.3)."""
    if "ethics_committee" not in ids:
        return True
    before = [ids.index(g) for g in GATEKEEPERS if g in ids]
    return bool(before) and min(before) < ids.index("ethics_committee")


@dataclass
class QuestionScore:
    id: str
    group: str
    rank: int | None  # position of the first citation naming an expected section
    top1: bool
    lead_correct: bool
    fact: bool | None  # None: the case checks no fact
    routing: bool | None
    language: bool
    grounded: bool
    quotes: int
    quote_problems: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = []
        if self.rank is None or self.rank >= 3:
            out.append("expected section not in the first 3 citations")
        elif not self.top1:
            out.append("first citation not an expected section")
        if not self.lead_correct:
            out.append("lead not correct")
        if self.fact is False:
            out.append("answer lacks the expected fact")
        if self.routing is False:
            out.append("routing")
        if not self.language:
            out.append("wrong language")
        if not self.grounded:
            out.append("declined")
        return out + self.quote_problems


def score_question(case: dict[str, Any], answer: Answer, group: str) -> QuestionScore:
    sections = [str(s) for s in case.get("sections", [])]
    cited = [c.section for c in answer.citations]
    rank = next((i for i, s in enumerate(cited) if s in sections), None)
    wanted = case.get("answer_any")
    lead = lead_of(answer)
    top1 = rank == 0
    return QuestionScore(
        id=str(case["id"]),
        group=group,
        rank=rank,
        top1=top1,
        lead_correct=top1 and (not wanted or _mentions(lead, wanted)),
        fact=_mentions(answer.answer, wanted) if wanted else None,
        routing=_routing_ok(case, [c.id for c in answer.contacts]),
        language=answer.language == case.get("lang", "en"),
        grounded=answer.grounded,
        quotes=len(answer.citations),
        quote_problems=[
            f"quote from {c.section} is not verbatim"
            for c in answer.citations
            if c.document == "ki-guidelines" and not is_verbatim(c.quote)
        ],
    )


def _routing_ok(expect: dict[str, Any], ids: Sequence[str]) -> bool | None:
    checks = []
    if expect.get("contacts_any"):
        checks.append(bool(set(expect["contacts_any"]) & set(ids)))
    if expect.get("contacts_all"):
        checks.append(set(expect["contacts_all"]) <= set(ids))
    if expect.get("ethics_order"):
        checks.append(ethics_order_ok(ids))
    return all(checks) if checks else None


def question_figures(scores: list[QuestionScore]) -> dict[str, Any]:
    n = len(scores) or 1
    routed = [s.routing for s in scores if s.routing is not None]
    facts = [s.fact for s in scores if s.fact is not None]
    return {
        "questions": len(scores),
        "recall_at_3": round(sum(s.rank is not None and s.rank < 3 for s in scores) / n, 4),
        "mrr": round(sum(1 / (s.rank + 1) for s in scores if s.rank is not None) / n, 4),
        "top1": round(sum(s.top1 for s in scores) / n, 4),
        "lead_correct": round(sum(s.lead_correct for s in scores) / n, 4),
        "routing": [sum(routed), len(routed)],
        "facts": [sum(facts), len(facts)],
        "language": [sum(s.language for s in scores), len(scores)],
        "wrongly_declined": [s.id for s in scores if not s.grounded],
        "quotes": [
            sum(s.quotes for s in scores) - sum(len(s.quote_problems) for s in scores),
            sum(s.quotes for s in scores),
        ],
    }


def by_group(scores: list[QuestionScore]) -> dict[str, dict[str, Any]]:
    names = list(dict.fromkeys(s.group for s in scores))
    out = {}
    for name in names:
        members = [s for s in scores if s.group == name]
        n = len(members)
        out[name or "(ungrouped)"] = {
            "n": n,
            "top1": round(sum(s.top1 for s in members) / n, 4),
            "lead_correct": round(sum(s.lead_correct for s in members) / n, 4),
        }
    return out


# -- triage ---------------------------------------------------------------------------------------------------
TriageLine = Callable[[str, dict[str, str]], dict[str, Any]]  # text and answers -> the result line


def run_triage_case(case: dict[str, Any], engine: Engine) -> dict[str, Any]:
    """The case as `ribot triage --json` lines through `engine`."""
    return run_triage_lines(case, lambda text, answers: _triage(engine, text, answers))


def run_triage_lines(case: dict[str, Any], triage: TriageLine) -> dict[str, Any]:
    """The case as `ribot triage --json` lines: the first line is the text, each next line the text with
    the answers given so far; every line is a separate assessment."""
    truth = {str(k): str(v) for k, v in (case.get("slots") or {}).items()}
    answers: dict[str, str] = {}
    asked, errors = 0, []
    line = triage(str(case.get("text", "")), answers)
    while line["status"] == "need_input" and asked < MAX_TRIAGE_QUESTIONS:
        asked += 1
        question = line["question"]
        wanted = question.get("slots") or [question["slot"]]
        given = {s: truth[s] for s in wanted if s in truth}
        if not given:
            errors.append(f"asked about {wanted}, which the case does not list")
            break
        answers.update(given)
        line = triage(str(case.get("text", "")), dict(answers))
    outcome = line.get("outcome")
    if outcome is None:
        errors.append(f"ended with status {line['status']}")
    else:
        errors += outcome_problems(outcome, case.get("expect") or {}, truth)
    return {"ok": not errors, "asked": asked, "slots": len(truth), "errors": errors}


def _triage(engine: Engine, text: str, answers: dict[str, str]) -> dict[str, Any]:
    turn = Turn(platform="eval", conversation_id=f"eval-{uuid.uuid4().hex}", user_id="eval", text=text)
    return triage_line(engine.triage(turn, dict(answers)))


def outcome_problems(outcome: dict[str, Any], expect: dict[str, Any], truth: dict[str, str]) -> list[str]:
    errors = [
        f"slot {slot}: understood {outcome['slots'].get(slot)!r}, expected {value!r}"
        for slot, value in truth.items()
        if outcome["slots"].get(slot) != value
    ]
    ids = [c["id"] for c in outcome["contacts"]]
    if _routing_ok(expect, ids) is False:
        errors.append(f"contacts {ids} do not meet {expect}")
    for key in ("responsible", "report_to", "decides"):
        if key in expect and outcome.get(key) != expect[key]:
            errors.append(f"{key}: {outcome.get(key)!r}, expected {expect[key]!r}")
    return errors


def triage_figures(cases: list[dict[str, Any]], engine: Engine) -> dict[str, Any]:
    results = [(case, run_triage_case(case, engine)) for case in cases]
    return {
        "cases": len(results),
        "correct": sum(bool(r["ok"]) for _, r in results),
        "asked": sum(r["asked"] for _, r in results),
        "slots": sum(r["slots"] for _, r in results),
        "over_half": [c["id"] for c, r in results if r["asked"] * 2 > r["slots"]],
        "failures": [f"{c['id']}: {'; '.join(r['errors'])}" for c, r in results if not r["ok"]],
    }


# -- conversations ------------------------------------------------------------------------------------------
def turn_problems(line: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    problems = []
    sections = [str(s) for s in expect.get("sections", [])]
    cited = [c["section"] for c in line["citations"]][:3]
    if sections and not set(sections) & set(cited):
        problems.append(f"cited {cited}, expected one of {sections}")
    if _routing_ok(expect, [c["id"] for c in line["contacts"]]) is False:
        problems.append(f"contacts {[c['id'] for c in line['contacts']]}")
    if expect.get("answer_any") and not _mentions(line["text"], expect["answer_any"]):
        problems.append(f"text lacks any of {expect['answer_any']}")
    if line["language"] != expect.get("lang", line["language"]):
        problems.append(f"language {line['language']}")
    if "handover" in expect and line["handover"] != expect["handover"]:
        problems.append(f"handover {line['handover']}")
    if "grounded" in expect and line["grounded"] != expect["grounded"]:
        problems.append(f"grounded {line['grounded']}")
    return problems


def conversation_figures(conversations: list[dict[str, Any]], engine: Engine) -> dict[str, Any]:
    turns = right = convos_right = 0
    failures = []
    for convo in conversations:
        conversation_id = f"eval-{convo['id']}-{uuid.uuid4().hex}"
        ok = True
        for n, step in enumerate(convo["turns"], start=1):
            turn = Turn(platform="eval", conversation_id=conversation_id, user_id="eval", text=step["text"])
            line = chat_line(conversation_id, engine.handle(turn))
            problems = turn_problems(line, step.get("expect") or {})
            turns += 1
            right += not problems
            ok = ok and not problems
            failures += [f"{convo['id']} turn {n}: {p}" for p in problems]
        convos_right += ok
    return {
        "conversations": len(conversations),
        "correct": convos_right,
        "turns": turns,
        "turns_right": right,
        "failures": failures,
    }


# -- the whole file -----------------------------------------------------------------------------------------
def evaluate(
    data: dict[str, Any],
    answerer: AnswersMany,
    engine_factory: Callable[[], Engine] | None = None,
    *,
    groups: dict[str, str] | None = None,
    baseline: Callable[[list[str]], list[list[set[str]]]] | None = None,
) -> dict[str, Any]:
    groups = groups or {}
    questions = data.get("questions") or []
    declines = data.get("out_of_scope") or []
    answers = answerer.ask_many([str(c["q"]) for c in questions])
    refused = answerer.ask_many([str(c["q"]) for c in declines])
    scores = [
        score_question(c, a, groups.get(str(c["id"]), "")) for c, a in zip(questions, answers, strict=True)
    ]
    report: dict[str, Any] = question_figures(scores)
    report["premises"] = _premise_figures(scores)
    report["groups"] = by_group(scores)
    report["failures"] = [f"{s.id}: {', '.join(s.problems())}" for s in scores if s.problems()]
    report["out_of_scope"] = len(declines)
    report["not_declined"] = [str(c["id"]) for c, a in zip(declines, refused, strict=True) if a.grounded]
    if baseline is not None and questions:
        ranked = baseline([str(c["q"]) for c in questions])
        report["baseline"] = _baseline_figures(questions, ranked)
    if engine_factory is not None and (data.get("triage") or data.get("conversations")):
        engine = engine_factory()
        if data.get("triage"):
            report["triage"] = triage_figures(data["triage"], engine)
        if data.get("conversations"):
            report["conversations"] = conversation_figures(data["conversations"], engine)
    report["passed"] = passed(report)
    return report


def _premise_figures(scores: list[QuestionScore]) -> list[int]:
    members = [s for s in scores if "premise" in s.group.lower()]
    return [sum(s.lead_correct for s in members), len(members)]


def _baseline_figures(questions: list[dict[str, Any]], ranked: list[list[set[str]]]) -> dict[str, float]:
    recall = mrr = 0.0
    for case, results in zip(questions, ranked, strict=True):
        rank = next((i for i, found in enumerate(results) if found & set(case["sections"])), None)
        recall += rank is not None and rank < 3
        mrr += 1 / (rank + 1) if rank is not None else 0.0
    n = len(questions)
    return {"recall_at_3": round(recall / n, 4), "mrr": round(mrr / n, 4)}


# The acceptance bar of the understanding work: Recall@3 0.95, top-1 0.9, lead correct 0.9.
BAR = {"recall_at_3": 0.95, "top1": 0.9, "lead_correct": 0.9}


def passed(r: dict[str, Any]) -> bool:
    ok = all(r[k] >= v for k, v in BAR.items()) if r["questions"] else True
    ok = ok and r["routing"][0] == r["routing"][1] and r["facts"][0] == r["facts"][1]
    ok = ok and not r["wrongly_declined"] and not r["not_declined"] and r["quotes"][0] == r["quotes"][1]
    triage = r.get("triage")
    if triage:
        ok = ok and triage["correct"] == triage["cases"] and not triage["over_half"]
    convos = r.get("conversations")
    if convos:
        ok = ok and convos["correct"] == convos["conversations"]
    return ok
