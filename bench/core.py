"""Measure the core targets on this machine and write them to docs/benchmarks.md.

    python bench/core.py                    # about a minute on 2 cores
    python bench/core.py --reader scored    # the hand-scored extractive reader instead of the (learned) default

- building the seeds index from scratch (seconds, peak RSS of that process);
- warm ``answer()`` latency over the project's test set (median, p95);
- a cold ``rag ask`` process, start to exit (median of 5), and whether torch was imported;
- answer quality on tests/data/seeds_qa.jsonl (retrieval recall, answers, quotes, refusals).

Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from rag.assistant import DEFAULT_READER, READERS  # noqa: E402
from rag.evaluation import evaluate  # noqa: E402
from report import replace_section  # noqa: E402

BUILD = """
import resource, sys, time
t = time.perf_counter()
from embeddings import load_embedder
from rag.index import update_index
report = update_index([sys.argv[1]], sys.argv[2], load_embedder())
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, report.n_chunks)
"""

COLD_ASK = """
import sys
from rag.cli import main
code = main(["ask", sys.argv[1], "--index", sys.argv[2]])
print("TORCH_IMPORTED", "torch" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def run(code: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return time.perf_counter() - started, proc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reader", choices=READERS, default=None,
                        help="the extractive reader (default: the Assistant's default)")
    args = parser.parse_args(argv)
    out: dict = {"reader": args.reader}
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        _, proc = run(BUILD, str(ROOT / "seeds"), str(index_dir))
        seconds, rss_mb, chunks = proc.stdout.split()
        out["build"] = {"seconds": round(float(seconds), 2), "peak_rss_mb": round(float(rss_mb)), "chunks": int(chunks)}

        cold = []
        for _ in range(5):
            elapsed, proc = run(COLD_ASK, "When does the smart port open?", str(index_dir))
            cold.append(elapsed)
        out["cold_ask"] = {"median_s": round(statistics.median(cold), 2), "max_s": round(max(cold), 2),
                           "torch_imported": "TORCH_IMPORTED True" in proc.stderr}

        from rag import Assistant

        assistant = Assistant(index_dir, reader=args.reader)
        out["reader"] = assistant.reader
        report = evaluate(ROOT / "tests/data/seeds_qa.jsonl", assistant, k=5)
        timings = []
        for _ in range(5):  # five passes over the set for stable latency figures
            for p in report.predictions:
                timings.append(assistant.ask(p.question).timings["total_ms"])
        timings.sort()
        out["warm_answer_ms"] = {"median": round(statistics.median(timings), 2),
                                 "p95": round(timings[int(0.95 * len(timings)) - 1], 2), "n": len(timings)}
        out["quality"] = report.metrics
        out["misses"] = [p.qid for p in report.predictions  # answerable: refused or wrong; unanswerable: answered
                         if ((p.refused or not p.scores["contains"]) if p.answerable else not p.refused)]

    print(json.dumps(out, ensure_ascii=False, indent=2))
    write_markdown(out)
    return 0


def write_markdown(m: dict) -> None:
    q = m["quality"]
    rows = "\n".join(
        f"| {lang} | {q[lang]['questions']} | {q[lang]['recall@1']} | {q[lang]['recall@5']} | "
        f"{q[lang]['answer_contains_gold']} | {q[lang]['lead_given']} | {q[lang]['lead_right']} | "
        f"{q[lang]['lead_f1']} | {q[lang]['citation_precision']} | {q[lang]['answerable_refused']} | "
        f"{q[lang]['unanswerable_refused']} | {q[lang]['quote_validity']} |"
        for lang in ("en", "zh", "all") if lang in q
    )
    default = m["reader"] == DEFAULT_READER
    command = "python bench/core.py" + ("" if default else f" --reader {m['reader']}")
    text = f"""Measured by `{command}` on {platform.machine()}, Python {platform.python_version()},
2 cores, no GPU ({time.strftime('%Y-%m-%d')}); the extractive answerer with the {m['reader']} reader.

| what | target | measured |
|---|---|---|
| build the seeds index from scratch | ≤ 15 s | {m['build']['seconds']} s ({m['build']['chunks']} chunks, peak RSS {m['build']['peak_rss_mb']} MB) |
| warm `answer()` median / p95 | median ≤ 50 ms | {m['warm_answer_ms']['median']} ms / {m['warm_answer_ms']['p95']} ms (n={m['warm_answer_ms']['n']}) |
| cold `rag ask` process, start to exit | ≤ 2.5 s | median {m['cold_ask']['median_s']} s, worst {m['cold_ask']['max_s']} s of 5 |
| torch imported on the default path | no | {'yes' if m['cold_ask']['torch_imported'] else 'no'} |

### Answer quality on `tests/data/seeds_qa.jsonl`

39 answerable questions (23 English, 16 Chinese) and 8 the articles cannot answer.
Recall counts a retrieved chunk as relevant when it contains the question's evidence string.

| language | questions | recall@1 | recall@5 | answer contains gold | lead given | given lead right | lead F1 (CMRC) | citation precision | answerable refused | unanswerable refused | quotes verbatim |
|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}

Targets: recall@5 ≥ 0.95 for each language; answer contains gold ≥ 90%; every quote verbatim;
every unanswerable question refused, no answerable one refused. A lead is the short answer put before the
quotes; "right" means CMRC F1 ≥ 0.5 against the gold.
The same figures come from `rag eval tests/data/seeds_qa.jsonl` (metrics in `rag/metrics.py`).

Misses: {', '.join(m['misses']) or 'none'}{' (why: `KNOWN_MISSES` in `tests/conftest.py`)' if default else ''}.

How English questions got there (English recall@5 on this set): e5 dense alone 0.74; with
BM25 over CC-CEDICT translations at half weight 0.83; at full weight 0.96.
"""
    if default:
        replace_section("Core: grounded answers over the seeds (issue 2)", text)
    else:
        replace_section(f"Core: the {m['reader']} reader over the seeds (issue 10)", text)


if __name__ == "__main__":
    sys.exit(main())
