"""`rag serve` under load: time to the first streamed token, and many clients at once, through the real
`openai` client against a real server process on 127.0.0.1 (the seeds index, extractive answers).

    python bench/serve.py                         # about a minute on 2 cores
    python bench/serve.py --clients 20 --requests 200

1. One client streams each test question in turn (`stream: true`); we record the time from sending the
   request to the first chunk that carries answer text, and to the end of the stream.
2. ``--clients`` threads, each with its own `openai` client, share ``--requests`` questions, half streamed,
   half plain; every error, every reply without citations where the question is answerable, and every
   reply whose text lacks the gold answer is counted.

Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402

TITLE = "`rag serve`: first streamed token and concurrent clients (issue 13)"


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_API_KEY", "RAG_LLM")}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--index", str(index_dir), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("rag serve exited before it was ready")
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("rag serve did not start within 180 s")


def holds(text: str, answers: list[str]) -> bool:
    squeezed = "".join(text.split())
    return any("".join(a.split()) in squeezed for a in answers if a.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--index", type=Path, help="an index of the seeds (default: built in a temporary folder)")
    args = parser.parse_args()
    from openai import OpenAI

    questions = [json.loads(line) for line in (ROOT / "tests/data/seeds_qa.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        if args.index:
            shutil.copytree(args.index, index_dir)
        else:
            from rag import Assistant

            Assistant.build([ROOT / "seeds"], index_dir)
        port = free_port()
        proc = start_server(index_dir, port)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            client = OpenAI(base_url=base, api_key="unused", max_retries=0)
            first_token, whole = [], []
            for rep in range(2):  # the first pass warms up; the second is measured
                for q in questions:
                    started = time.perf_counter()
                    seen = None
                    for chunk in client.chat.completions.create(model="rag-news-qa", stream=True,
                                                                messages=[{"role": "user", "content": q["question"]}]):
                        if seen is None and chunk.choices and chunk.choices[0].delta.content:
                            seen = time.perf_counter() - started
                    if rep:
                        first_token.append(seen * 1000)
                        whole.append((time.perf_counter() - started) * 1000)

            def one(i: int) -> tuple[str, float]:
                q = questions[i % len(questions)]
                local = OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=120)
                started = time.perf_counter()
                try:
                    messages = [{"role": "user", "content": q["question"]}]
                    if i % 2:
                        chunks = list(local.chat.completions.create(model="rag-news-qa", stream=True, messages=messages))
                        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                        last = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
                        citations = last.model_extra.get("citations")
                    else:
                        reply = local.chat.completions.create(model="rag-news-qa", messages=messages)
                        text, citations = reply.choices[0].message.content, reply.model_extra.get("citations")
                except Exception as exc:  # counted, not raised: the figure is how many fail
                    return f"error: {type(exc).__name__}: {exc}", time.perf_counter() - started
                if q["answers"] and not citations:
                    return "no citations", time.perf_counter() - started
                if q["answers"] and not holds(text.split("\n\nSources:")[0], q["answers"]):
                    return "gold missing", time.perf_counter() - started
                return "ok", time.perf_counter() - started

            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(one, range(args.requests)))
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    outcomes = {}
    for outcome, _ in results:
        key = outcome.split(":")[0]
        outcomes[key] = outcomes.get(key, 0) + 1
    latencies = [t * 1000 for _, t in results]
    body = f"""Written by `python bench/serve.py --clients {args.clients} --requests {args.requests}` on
{time.strftime('%Y-%m-%d')} ({platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores).
A real `rag serve` process over the seeds index (extractive answers), asked through the `openai` client.

| one client, streamed, {len(questions)} questions | median (ms) | p95 (ms) |
|---|---:|---:|
| first token with answer text | {statistics.median(first_token):.1f} | {pct(first_token, 0.95):.1f} |
| whole stream | {statistics.median(whole):.1f} | {pct(whole, 0.95):.1f} |

{args.clients} clients at once, {args.requests} requests (half streamed): {elapsed:.1f} s,
{args.requests / elapsed:.1f} requests/s; each request's wall time as its client saw it, queueing
included: median {statistics.median(latencies):.0f} ms, p95 {pct(latencies, 0.95):.0f} ms.

Outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}. "gold missing" counts answerable
questions whose answer text lacks the gold (the extractive answerer's own misses on this test set, the same
in every request); errors are failed requests.
"""
    replace_section(TITLE, body)
    print(body)
    errors = [o for o, _ in results if o.startswith("error")]
    if errors:
        print("first errors:", *errors[:5], sep="\n  ")


if __name__ == "__main__":
    main()
