"""Record the extractive answerer's answers to the public dev sets as JSONL, to be scored by
`bench/devsets.py --replay`: run it with another commit's package first on the path to compare two
versions of the answering path on the same indexes and with the same metrics.

    git worktree add /tmp/base <commit>
    PYTHONPATH=/tmp/base python bench/record_answers.py --work /work/scratch --out /tmp/base-answers.jsonl
    python bench/devsets.py --work /work/scratch --replay /tmp/base-answers.jsonl --no-write

Uses only what every version has (`Assistant`, `Answer.to_dict`, `rag.evaluation.load_testset`) and the
indexes `bench/devsets.py` built under --work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {"xquad-zh": ("xquad-dev/questions_zh.jsonl", "idx-xquad"), "xquad-en": ("xquad-dev/questions_en.jsonl", "idx-xquad"),
        "cmrc": ("cmrc2018-trial.json", "idx-cmrc"), "rgb": ("rgb-news-dev/questions.jsonl", "idx-rgb")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evalsets", type=Path, default=ROOT.parent / "shared" / "evalsets")
    parser.add_argument("--work", type=Path, required=True, help="where bench/devsets.py built the dev-set indexes")
    parser.add_argument("--out", type=Path, required=True, help="the JSONL file to write")
    args = parser.parse_args(argv)
    from rag import Assistant
    from rag.evaluation import load_testset

    print(f"answering with the rag package at {sys.modules['rag'].__file__}", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as out:
        for name, (testset, index) in SETS.items():
            assistant = Assistant(args.work / index, llm="extractive")
            for q in load_testset(args.evalsets / testset).questions:
                if not q.question.strip():
                    continue
                answer = assistant.ask(q.question, k=5).to_dict()
                out.write(json.dumps({"set": name, "question": q.question, "answer": answer}, ensure_ascii=False) + "\n")
            print(f"{name} recorded", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
