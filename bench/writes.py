"""What a write costs: adding one 1,000-character article to, and removing one from, indexes of 2,000 / 20,000 /
100,000 chunks.

    python bench/writes.py                      # all three sizes (the 100k base takes a while to make)
    python bench/writes.py --sizes 2000,20000

The base indexes are made of synthetic article-like documents (random seed sentences, ~10 chunks each)
with vectors from a stand-in embedder (random unit vectors under e5's name), since embedding 100,000
chunks for real would take hours here and the write path does not care where vectors come from. The
article added is embedded by the real e5 embedder, timed on its own: the target is "at most 1 s plus the
embedding of that article's own text". Each measurement runs in a fresh process (the cold case, as
``rag index``: the index is read from disk first), twice, with a different article each time. Writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from build import seed_sentences  # noqa: E402
from report import replace_section  # noqa: E402

ARTICLE_CHARS = 1000


class StandIn:
    """Random unit vectors under e5's name: for the base index only."""

    spec = "e5-small"
    dim = 384

    def __init__(self, seed: int = 0):
        import numpy as np

        self._rng = np.random.default_rng(seed)

    def embed_documents(self, texts):
        v = self._rng.normal(size=(len(texts), self.dim)).astype("float32")
        return (v / ((v ** 2).sum(axis=1, keepdims=True) ** 0.5)).tolist()

    def embed_query(self, text):
        return self.embed_documents([text])[0]


class TimedE5:
    """e5, with the time spent embedding counted."""

    spec = "e5-small"

    def __init__(self):
        from embeddings import load_embedder

        self._e5 = load_embedder()
        self.seconds = 0.0

    def embed_documents(self, texts):
        t = time.perf_counter()
        out = self._e5.embed_documents(texts)
        self.seconds += time.perf_counter() - t
        return out

    def embed_query(self, text):
        return self._e5.embed_query(text)


def article(rng: random.Random, sentences: list[str], chars: int, title: str) -> str:
    body, size = [], 0
    while size < chars:
        s = rng.choice(sentences)
        body.append(s)
        size += len(s)
    return f"{title}\n\n08:00 | 01/06/2024\n\n" + "".join(body) + "\n"


def make_base(index_dir: Path, corpus: Path, n_chunks: int) -> dict:
    """A base index of about ``n_chunks`` chunks, written in batches as a news feed would arrive."""
    from rag.index import update_index

    rng = random.Random(n_chunks)
    sentences = seed_sentences()
    corpus.mkdir(parents=True, exist_ok=True)
    i, report = 0, None
    embedder = StandIn()
    while report is None or report.n_chunks < n_chunks:
        batch = corpus / f"batch-{i:03d}"
        batch.mkdir()
        for j in range(200):
            (batch / f"a{j:03d}.txt").write_text(article(rng, sentences, 1500, f"新闻{i}-{j}"), encoding="utf-8")
        report = update_index([batch], index_dir, embedder, prune=False)
        i += 1
    return {"chunks": report.n_chunks, "documents": report.n_documents}


WRITE = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
from writes import TimedE5, StandIn
from rag.index import remove_documents, update_index
embedder = TimedE5()
t = time.perf_counter()
report = update_index([sys.argv[3]], sys.argv[2], embedder, prune=False)
add = time.perf_counter() - t
t = time.perf_counter()
remove_documents([report.added[0]], sys.argv[2], StandIn())
remove = time.perf_counter() - t
print(json.dumps({"add_s": add, "embed_s": embedder.seconds, "remove_s": remove, "chunks": report.n_chunks}))
"""


def measure(index_dir: Path, new: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", WRITE, str(ROOT), str(index_dir), str(new)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--work", type=Path, help="keep the base indexes here and reuse them on the next run "
                                                   "(each write is undone by the removal that follows it)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    sentences = seed_sentences()
    with tempfile.TemporaryDirectory(prefix="rag-bench-writes-") as temporary:
        scratch = args.work or Path(temporary)
        for n in sizes:
            base = scratch / f"index-{n}"
            t = time.perf_counter()
            made_file = scratch / f"index-{n}.json"
            if made_file.exists():
                made = json.loads(made_file.read_text())
            else:
                made = make_base(base, scratch / f"corpus-{n}", n)
                made_file.write_text(json.dumps(made))
            made_s = time.perf_counter() - t
            new = scratch / f"new-{n}"
            new.mkdir(parents=True, exist_ok=True)
            (new / "new.txt").write_text(article(random.Random(1), sentences, ARTICLE_CHARS, "新到的一篇"),
                                         encoding="utf-8")
            cold = measure(base, new)
            (new / "new.txt").write_text(article(random.Random(2), sentences, ARTICLE_CHARS, "又一篇"), encoding="utf-8")
            again = measure(base, new)
            rows.append((n, made, made_s, cold, again))
            print(n, made, round(made_s), cold, again, flush=True)
    table = "\n".join(
        f"| {made['chunks']:,} | {cold['add_s']:.2f} | {cold['embed_s']:.2f} | **{cold['add_s'] - cold['embed_s']:.2f}** | "
        f"**{cold['remove_s']:.2f}** | {again['add_s'] - again['embed_s']:.2f} | {again['remove_s']:.2f} |"
        for n, made, made_s, cold, again in rows)
    body = f"""Written by `python bench/writes.py --sizes {args.sizes}` on {time.strftime('%Y-%m-%d')} ({platform.machine()},
Python {platform.python_version()}, 2 cores). Each base index is synthetic news (~1,500-character articles of seed
sentences, added 200 at a time as a feed would bring them) with stand-in vectors; the article added is
{ARTICLE_CHARS:,} characters, embedded by e5 for real. Every write runs in a fresh process, as `rag index` does,
so it reads the index from disk first.

| chunks in the index | add one article (s) | of which embedding it (s) | add, without the embedding (s) | remove one article (s) | again: add without embedding (s) | again: remove (s) |
|---:|---:|---:|---:|---:|---:|---:|
{table}

Target: adding costs at most 1 s plus the article's own embedding, and removing at most 1 s, at every size.
"""
    if not args.no_write:
        replace_section("Writes: adding and removing one article (issue 14)", body)
    print(body)


if __name__ == "__main__":
    main()
