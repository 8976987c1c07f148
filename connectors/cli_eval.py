"""`ribot eval FILE`: every figure of connectors.evaluation for one evaluation file, with the LangChain
tutorial baseline measured in the same run."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from connectors.evaluation import BAR, Engine, evaluate, groups_of


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("file", type=Path, help="evaluation file (the format of shared/eval/dev2.yaml)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failure")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    from connectors.cli_ask import open_answerer
    from knowledge.baseline import baseline_ranked

    data = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    answerer = open_answerer()
    with engine_on_scratch_database(answerer) as engine:
        report = evaluate(
            data,
            answerer,
            lambda: engine,
            groups=groups_of(args.file),
            baseline=None
            if args.no_baseline
            else partial(baseline_ranked, encoder=getattr(answerer.retriever, "encoder")),  # noqa: B009
        )
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else render(report, args.verbose))
    return 0 if report["passed"] else 1


@contextmanager
def engine_on_scratch_database(answerer: Any) -> Iterator[Engine]:
    """The conversation engine of `ribot chat` and `ribot triage`, on a throw-away SQLite database."""
    from connectors.cli_engine import open_engine

    with tempfile.TemporaryDirectory(prefix="ribot-eval-") as folder:
        engine = open_engine(f"sqlite:///{folder}/eval.sqlite3", answerer)
        try:
            yield engine
        finally:
            engine.db.dispose()


def _share(pair: list[int]) -> str:
    return f"{pair[0]}/{pair[1]}"


def render(r: dict[str, Any], verbose: bool) -> str:
    lines = []
    if r["questions"]:
        lines.append(
            f"Questions     {r['questions']}: Recall@3 {r['recall_at_3']:.3f}   MRR {r['mrr']:.3f}   "
            f"top-1 {r['top1']:.3f}   lead correct {r['lead_correct']:.3f}   "
            f"(bar: {', '.join(f'{k} {v}' for k, v in BAR.items())})"
        )
        if "baseline" in r:
            b = r["baseline"]
            lines.append(
                f"Baseline      Recall@3 {b['recall_at_3']:.3f}   MRR {b['mrr']:.3f}   "
                "(LangChain tutorial: 500/50 splitter, Chroma, same model)"
            )
        lines += [
            f"Premises      {_share(r['premises'])} corrected in the lead",
            f"Routing       {_share(r['routing'])} checks pass",
            f"Answer facts  {_share(r['facts'])} checks pass",
            f"Language      {_share(r['language'])} replies in the expected language",
            f"Quotes        {_share(r['quotes'])} verbatim",
        ]
        for name, g in r["groups"].items():
            lines.append(
                f"  {name[:40]:<40} n={g['n']:<3} top-1 {g['top1']:.2f}  lead {g['lead_correct']:.2f}"
            )
    lines.append(
        f"Declines      {r['out_of_scope'] - len(r['not_declined'])}/{r['out_of_scope']} out-of-scope "
        f"declined, {len(r['wrongly_declined'])} in-scope wrongly declined"
    )
    if "triage" in r:
        t = r["triage"]
        lines.append(
            f"Triage        {t['correct']}/{t['cases']} outcomes right, asked {t['asked']} of "
            f"{t['slots']} slots ({len(t['over_half'])} cases asked more than half)"
        )
    if "conversations" in r:
        c = r["conversations"]
        lines.append(
            f"Conversations {c['correct']}/{c['conversations']} right, {c['turns_right']}/{c['turns']} turns"
        )
    problems = list(r["failures"]) + [f"{i}: not declined" for i in r["not_declined"]]
    problems += r.get("triage", {}).get("failures", []) + r.get("conversations", {}).get("failures", [])
    if problems:
        lines.append("Failures:" if verbose else f"Failures: {len(problems)} (-v lists them)")
        if verbose:
            lines.extend(f"  {p}" for p in problems)
    lines.append("PASSED" if r["passed"] else "FAILED")
    return "\n".join(lines)
