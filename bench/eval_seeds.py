"""Run the project's test set through the real default stack and print the target metrics.

    python bench/eval_seeds.py [--testset tests/data/seeds_qa.jsonl] [--index DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant  # noqa: E402
from rag.evaluation import evaluate_question, load_testset, summarize  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testset", default=ROOT / "tests/data/seeds_qa.jsonl")
    parser.add_argument("--index", help="existing index (default: build the seeds into a temporary one)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="print every question's answer")
    args = parser.parse_args()

    questions, problems = load_testset(args.testset)
    for p in problems:
        print("skipped", p, file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(args.index) if args.index else Assistant.build([ROOT / "seeds"], Path(tmp) / "index")
        assistant.ask("warm-up question")
        results = [evaluate_question(assistant, q, k=args.k) for q in questions]
    for r in results:
        ok = (r.contains_gold and not r.refused) if r.answerable else r.refused
        if args.verbose or not ok:
            flag = "ok  " if ok else "FAIL"
            print(f"{flag} {r.qid:24s} r@5={int(r.hit_at_5)} refused={int(r.refused)} | {r.text[:110]}")
    print(json.dumps(summarize(results), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
