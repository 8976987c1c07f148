"""`ribot eval FILE`: retrieval, routing, answer facts, declines, verbatim quotes and triage, with the
LangChain tutorial baseline measured in the same run."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.types import Answer

THRESHOLDS = {"recall_at_3": 0.95, "mrr": 0.90}


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("file", type=Path, help="evaluation file (the format of shared/eval/dev.yaml)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    from connectors.cli_ask import open_answerer

    data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    report = evaluate(data, open_answerer(), baseline=not args.no_baseline)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else render(report, args.verbose))
    return 0 if report["passed"] else 1


def evaluate(data: dict[str, Any], answerer: Any, baseline: bool = True) -> dict[str, Any]:
    """Every figure for one evaluation file; `answerer` answers the questions and any question asked
    during the triage cases."""
    from knowledge import evaluation as ev

    ask_many = answerer.ask_many
    questions = data.get("questions", [])
    declines = data.get("out_of_scope", [])
    answers: list[Answer] = ask_many([c["q"] for c in questions])
    refused: list[Answer] = ask_many([c["q"] for c in declines])
    retrieval = ev.retrieval_figures(questions, [[{c.section} for c in a.citations] for a in answers])
    report: dict[str, Any] = {
        "questions": len(questions),
        "recall_at_3": round(retrieval.recall_at_3, 4),
        "mrr": round(retrieval.mrr, 4),
        "retrieval_failures": retrieval.failures,
        "routing_failures": [
            p for c, a in zip(questions, answers, strict=True) for p in ev.routing_failures(c, a)
        ],
        "routing_checked": sum(1 for c in questions if c.get("contacts_any") or c.get("ethics_order")),
        "fact_failures": [p for c, a in zip(questions, answers, strict=True) for p in ev.fact_failures(c, a)],
        "facts_checked": sum(1 for c in questions if c.get("answer_any")),
        "wrongly_declined": [c["id"] for c, a in zip(questions, answers, strict=True) if not a.grounded],
        "out_of_scope": len(declines),
        "not_declined": [c["id"] for c, a in zip(declines, refused, strict=True) if a.grounded],
        "quote_failures": [
            p for c, a in zip(questions, answers, strict=True) for p in ev.quote_failures(c["id"], a)
        ],
        "quotes_checked": sum(len(a.citations) for a in answers),
    }
    if baseline:
        base = ev.baseline_figures(questions, answerer.retriever.encoder)
        report["baseline"] = {"recall_at_3": round(base.recall_at_3, 4), "mrr": round(base.mrr, 4)}
    if data.get("triage"):
        report["triage"] = _triage_figures(data["triage"], answerer)
    report["passed"] = _passed(report)
    return report


def _triage_figures(cases: list[dict[str, Any]], answerer: Any) -> dict[str, Any]:
    """The triage cases through the engine of `ribot triage --json`, on a throw-away SQLite database."""
    from bot.triage_eval import run_triage_case
    from connectors.cli_triage import open_engine
    from knowledge.evaluation import triage_figures

    with tempfile.TemporaryDirectory(prefix="ribot-eval-") as folder:
        engine = open_engine(f"sqlite:///{folder}/eval.sqlite3", answerer)
        try:
            return triage_figures(cases, lambda case: run_triage_case(case, engine))
        finally:
            engine.db.dispose()


def _passed(report: dict[str, Any]) -> bool:
    failures = (
        "retrieval_failures",
        "routing_failures",
        "fact_failures",
        "wrongly_declined",
        "not_declined",
        "quote_failures",
    )
    ok = all(report[k] >= v for k, v in THRESHOLDS.items()) and not any(report[f] for f in failures)
    base = report.get("baseline")
    if base:
        ok = ok and report["recall_at_3"] + report["mrr"] > base["recall_at_3"] + base["mrr"]
    triage = report.get("triage")
    if triage:
        ok = ok and triage["correct"] == triage["cases"] and not triage["over_half"]
    return ok


def render(r: dict[str, Any], verbose: bool) -> str:
    lines = [
        f"Retrieval     Recall@3 {r['recall_at_3']:.3f}   MRR {r['mrr']:.3f}   ({r['questions']} questions)",
    ]
    if "baseline" in r:
        b = r["baseline"]
        lines.append(
            f"Baseline      Recall@3 {b['recall_at_3']:.3f}   MRR {b['mrr']:.3f}   "
            "(LangChain tutorial: 500/50 splitter, Chroma, same model)"
        )
    lines += [
        f"Routing       {r['routing_checked'] - len(r['routing_failures'])}/{r['routing_checked']} checks pass",
        f"Answer facts  {r['facts_checked'] - len(r['fact_failures'])}/{r['facts_checked']} checks pass",
        f"Declines      {r['out_of_scope'] - len(r['not_declined'])}/{r['out_of_scope']} out-of-scope declined, "
        f"{len(r['wrongly_declined'])} in-scope wrongly declined",
        f"Quotes        {r['quotes_checked'] - len(r['quote_failures'])}/{r['quotes_checked']} verbatim",
    ]
    if "triage" in r:
        t = r["triage"]
        lines.append(
            f"Triage        {t['correct']}/{t['cases']} outcomes right, asked {t['asked']} of "
            f"{t['slots']} slots ({len(t['over_half'])} cases asked more than half)"
        )
    problems = [
        p for k in ("retrieval_failures", "routing_failures", "fact_failures", "quote_failures") for p in r[k]
    ]
    problems += [f"{i}: declined" for i in r["wrongly_declined"]] + [
        f"{i}: not declined" for i in r["not_declined"]
    ]
    problems += r.get("triage", {}).get("failures", [])
    if problems:
        lines.append("Failures:" if verbose else f"Failures: {len(problems)} (-v lists them)")
        if verbose:
            lines.extend(f"  {p}" for p in problems)
    lines.append("PASSED" if r["passed"] else "FAILED")
    return "\n".join(lines)
