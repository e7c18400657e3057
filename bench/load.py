"""Load: 20 concurrent askers on one Assistant over the seeds, through the public API.

    python bench/load.py                  # about a minute on 2 cores
    python bench/load.py --askers 20 --questions 400

Each asker (a thread) takes the project's test questions in turn and calls ``Assistant.ask``;
we record each call's wall time as the asker sees it (queueing included), throughput, and every
error or wrong answer. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    from embeddings import load_embedder
    from rag import Assistant
    from rag.index import update_index

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--askers", type=int, default=20)
    parser.add_argument("--questions", type=int, default=400)
    args = parser.parse_args()

    testset = [json.loads(line) for line in (ROOT / "tests/data/seeds_qa.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        embedder = load_embedder()
        update_index([ROOT / "seeds"], Path(scratch) / "index", embedder)
        assistant = Assistant(Path(scratch) / "index", embedder=embedder, llm="extractive")
        assistant.warm_up()

        # one asker alone first: the latency without contention
        alone = []
        for q in testset:
            t = time.perf_counter()
            assistant.ask(q["question"])
            alone.append((time.perf_counter() - t) * 1000)

        latencies: list[float] = []
        errors: list[str] = []
        wrong: list[str] = []
        lock = threading.Lock()
        work = [testset[i % len(testset)] for i in range(args.questions)]

        def ask(q):
            t = time.perf_counter()
            try:
                result = assistant.ask(q["question"])
            except Exception as exc:  # noqa: BLE001 - counted, not raised
                with lock:
                    errors.append(f"{q['qid']}: {type(exc).__name__}: {exc}")
                return
            elapsed = (time.perf_counter() - t) * 1000
            ok = result.refused if not q["answers"] else any(a in result.text for a in q["answers"])
            with lock:
                latencies.append(elapsed)
                if not ok:
                    wrong.append(q["qid"])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.askers) as pool:
            list(pool.map(ask, work))
        wall = time.perf_counter() - started

    expected_wrong = 2 * args.questions // len(testset)  # the two known misses, each asked this often
    body = f"""Written by `python bench/load.py --askers {args.askers} --questions {args.questions}` on {time.strftime('%Y-%m-%d')}
({platform.machine()}, {platform.python_version()}, 2 cores). One `Assistant` (extractive) over the seeds index;
{args.askers} threads call `Assistant.ask` with the {len(testset)} test questions in turn, {args.questions} calls in all.

| | median (ms) | p95 (ms) | throughput |
|---|---:|---:|---:|
| one asker alone | {statistics.median(alone):.1f} | {pct(alone, 0.95):.1f} | {1000 / statistics.fmean(alone):.0f} questions/s |
| {args.askers} concurrent askers | {statistics.median(latencies):.1f} | {pct(latencies, 0.95):.1f} | {len(latencies) / wall:.0f} questions/s |

Errors: **{len(errors)}**. Answers not matching the gold: {len(wrong)} (the two known misses of the test set
account for about {expected_wrong}). With {args.askers} askers on 2 cores each call waits for the others: the
latency an asker sees grows with the queue while throughput stays that of the two cores.
"""
    if errors:
        body += "\nFirst errors:\n\n" + "\n".join(f"- {e}" for e in errors[:5]) + "\n"
    replace_section("Load: concurrent askers (issue 6)", body)
    print(body)


if __name__ == "__main__":
    main()
