"""The answerer on the public dev sets (XQuAD zh/en, CMRC 2018 trial, RGB news): `rag eval` figures for each
set whole and for the fold the reader's training never saw; written to docs/benchmarks.md.

    python bench/devsets.py --work /tmp/rag-train      # indexes built there once (RGB: ~9 min), then reused
    python bench/devsets.py --work /tmp/rag-train --replay answers.jsonl --no-write   # score recorded answers

``--replay`` scores answers another version of the code recorded (``bench/record_answers.py``) with this
version's metrics, so that before and after are measured alike.

The dev sets are read from ../shared/evalsets (never copied into the project); without them this says so
and exits.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from report import replace_section  # noqa: E402
from train_reader import HELD_OUT, assistant_for, datasets, fold_of  # noqa: E402

from rag.assistant import DEFAULT_READER, READERS  # noqa: E402
from rag.evaluation import TestSet, evaluate, summarize  # noqa: E402

READER_TEXT = {"learned": "the learned reader (the models shipped in `rag/reader/model/`, the default)",
               "scored": "the hand-scored reader (`rag/extractive.py`)"}
COLUMNS = [("contains gold", "answer_contains_gold"), ("lead EM", "lead_em"), ("lead F1", "lead_f1"),
           ("lead given", "lead_given"), ("given lead right", "lead_right"), ("answerable refused", "answerable_refused"),
           ("unanswerable refused", "unanswerable_refused"), ("citation precision", "citation_precision"),
           ("recall@5", "recall@5")]


class Replayed:
    """An assistant whose answers are the recorded ones; retrieval figures still come from ``assistant``."""

    def __init__(self, assistant, answers: dict):
        self._assistant, self._answers = assistant, answers

    def __getattr__(self, name):
        return getattr(self._assistant, name)

    def ask(self, question: str, **_):
        return self._answers[question]


def _recorded(path: Path) -> dict:
    """{set: {question: Answer}} from bench/record_answers.py's JSONL, keeping the fields this version knows."""
    import dataclasses
    import json

    from rag.schema import Answer, Citation, Passage

    def make(cls, record):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known})

    out: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        answer = make(Answer, row["answer"])
        answer.citations = [make(Citation, c) for c in answer.citations]
        answer.passages = [make(Passage, p) for p in answer.passages]
        out.setdefault(row["set"], {})[row["question"]] = answer
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evalsets", type=Path, default=ROOT.parent / "shared" / "evalsets")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-train"), help="indexes of the dev sets")
    parser.add_argument("--reader", choices=READERS, default=DEFAULT_READER, help="the extractive answerer")
    parser.add_argument("--only", default="", help="comma-separated sets (xquad-zh,xquad-en,cmrc,rgb)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--replay", type=Path, help="score the answers recorded in this JSONL (bench/record_answers.py)")
    args = parser.parse_args(argv)
    recorded = _recorded(args.replay) if args.replay else None
    os.environ["RAG_READER"] = args.reader  # read by every Assistant made below
    if not (args.evalsets / "README.md").exists():
        print(f"no dev sets at {args.evalsets}: nothing to measure", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    cache: dict = {}
    rows = []
    only = {x for x in args.only.split(",") if x}
    for name, questions, index_dir, corpus, group_of, _ in datasets(args.evalsets, args.work):
        if only and name not in only:
            continue
        assistant = assistant_for(index_dir, corpus, cache)
        if recorded is not None:
            assistant = Replayed(assistant, recorded[name])
        started = time.time()
        report = evaluate(TestSet(questions), assistant, progress=True)
        held = {q.qid for q in questions if fold_of(group_of(q)) == HELD_OUT}
        for part, predictions in (("all", report.predictions),
                                  ("held-out fold", [p for p in report.predictions if p.qid in held])):
            m = summarize(predictions)["all"]
            rows.append((name, part, m))
            print(f"{name:9} {part:14} n={m['questions']:4} " + "  ".join(
                f"{label} {m[key] if m[key] is not None else '–'}" for label, key in COLUMNS), flush=True)
        print(f"{name}: {time.time() - started:.0f} s", flush=True)
    if not args.no_write:
        table = "\n".join(f"| {name} | {part} | {m['questions']} | " + " | ".join(
            "–" if m[key] is None else f"{m[key]:.3f}" for _, key in COLUMNS) + " |" for name, part, m in rows)
        replace_section(f"Answers on the public dev sets, {args.reader} reader (issue 10)", f"""Measured by
`python bench/devsets.py --reader {args.reader}` on
{platform.machine()}, Python {platform.python_version()}, 2 cores ({time.strftime('%Y-%m-%d')}), k=5, the extractive
answerer with {READER_TEXT[args.reader]}. "held-out fold" is the questions whose group (article;
RGB: question) the training script (`scripts/train_reader.py`) never trained or tuned on; "all" includes the
training fold and flatters the model. The lead is the short answer put before the quotes; F1 is CMRC 2018's
(longest common substring), a lead counts as right from F1 0.5. RGB's unanswerable questions are its own
must-refuse ones (answer passages left out of the pool).

| set | part | n | {' | '.join(label for label, _ in COLUMNS)} |
|---|---|---|{'---|' * len(COLUMNS)}
{table}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
