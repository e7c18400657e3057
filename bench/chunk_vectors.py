"""Do chunks need vectors of their own, or can a chunk's vector be made from its sentences' vectors?

    python bench/chunk_vectors.py --work /tmp/rag-train          # the dev-set indexes of scripts/train_reader.py
    python bench/chunk_vectors.py --work DIR --no-write

The build embeds every chunk (title + text, 200 tokens with 40 overlapping) and then every sentence of it
again, so the embedder reads the corpus more than twice. Sentence vectors are what the reader and the
citation check compare the question with, so they stay; this measures whether the chunk vectors could be
the (normalised) mean of their sentences' vectors, plus the title's vector once per document, which would
have the embedder read each sentence once. It compares retrieval on the public dev sets (and the seeds) with
the stored chunk vectors and with the made ones: same index, same BM25, same fusion, only the dense side's
vectors differ. Figures: whether the gold document (XQuAD, CMRC: one paragraph each; the seeds: the
question's evidence) is among the first 1 / 5 passages, and for every set whether a gold answer string is
in the first 5. Also what each way costs the embedder (cl100k tokens it reads per token of article text).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "scripts")]

from report import replace_section  # noqa: E402


def title_vectors(index, embedder) -> dict:
    """Each main-text title's vector, embedded once per title."""
    titles = sorted({c["title"] for c in index.chunks if c["title"] and c["section"] == "main"})
    return dict(zip(titles, np.asarray(embedder.embed_documents(titles), dtype=np.float32))) if titles else {}


def made_vectors(index, titles: dict) -> np.ndarray:
    """Each chunk's vector as the normalised mean of its sentences' (and, for main text, its title's in ``titles``)."""
    sentence_vectors = np.asarray(index.sentence_vectors, dtype=np.float32)
    out = np.zeros((len(index.chunks), index.dim), dtype=np.float32)
    for i, c in enumerate(index.chunks):
        parts = [sentence_vectors[c["sentence_ids"]]] if c["sentence_ids"] else []
        if c["section"] == "main" and c["title"] in titles:
            parts.append(titles[c["title"]][None, :])
        if parts:
            v = np.vstack(parts).mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out


class BestSentenceSearch:
    """Dense search that scores a chunk as its best sentence (or, given ``titles``, its document's title when
    that is closer), as passage retrieval by the best part (MaxP) does; with ``plus_vector``, plus the
    similarity of the chunk's own vector in ``vectors``. With ``rescore``, only the ``rescore`` best chunks by
    ``vectors`` are scored so (what an approximate index of those vectors would give). Only for this bench."""

    def __init__(self, index, vectors: np.ndarray, titles: dict, plus_vector: bool = False, rescore: int = 0):
        self.sentence_vectors = np.asarray(index.sentence_vectors, dtype=np.float32)
        self.vectors, self.plus_vector, self.rescore = vectors, plus_vector, rescore
        self.sentence_ids = [list(c["sentence_ids"]) for c in index.chunks]
        self.title_of = {i: titles[c["title"]] for i, c in enumerate(index.chunks)
                         if c["section"] == "main" and c["title"] in titles}

    def chunk_score(self, i: int, sims: np.ndarray, query: np.ndarray) -> float:
        ids = self.sentence_ids[i]
        best = float(sims[ids].max()) if ids else -1.0
        if i in self.title_of:
            best = max(best, float(self.title_of[i] @ query))
        return best + (float(self.vectors[i] @ query) if self.plus_vector else 0.0)

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]:
        if self.rescore:
            pool = np.argsort(-(self.vectors @ query))[:max(self.rescore, depth)]
        else:
            pool = np.arange(len(self.sentence_ids))
        sims = self.sentence_vectors @ query
        scored = sorted(((int(i), self.chunk_score(int(i), sims, query)) for i in pool), key=lambda t: -t[1])
        return scored[:depth]


def with_best_sentence(index, vectors: np.ndarray, titles: dict | None = None, plus_vector: bool = False,
                       rescore: int = 0):
    search = BestSentenceSearch(index, vectors, titles or {}, plus_vector, rescore)
    return dataclasses.replace(index, chunk_vectors=vectors, vector_store=search)


def with_vectors(index, vectors: np.ndarray):
    from rag.index.vectors.faiss_backend import FaissBackend, build_vector_index

    backend = FaissBackend(index.dim, build_vector_index(vectors, index.dim, "flat"))
    return dataclasses.replace(index, chunk_vectors=vectors, vector_store=backend)


def retrieval_figures(retriever, questions) -> dict:
    from rag.evaluation import _relevant

    hit1 = hit5 = n_rel = gold5 = 0
    for q in questions:
        passages = retriever.search(q.question, k=5).passages
        if q.evidence or q.doc_id:
            n_rel += 1
            hits = [_relevant(q, p.doc_id, p.text) for p in passages]
            hit1 += bool(hits[:1] and hits[0])
            hit5 += any(hits)
        gold5 += any(a and a in p.text for p in passages for a in q.answers)
    answerable = max(1, len(questions))
    return {"recall@1": hit1 / n_rel if n_rel else None, "recall@5": hit5 / n_rel if n_rel else None,
            "gold@5": gold5 / answerable, "n": len(questions)}


def embedder_reads(index) -> tuple[float, float]:
    """cl100k tokens the embedder reads per token of article text: as built, and with made chunk vectors."""
    from rag.tokens import count_tokens

    text = sum(count_tokens(d["text"]) for d in index.documents.values())
    titles = {c["doc_id"]: c["title"] for c in index.chunks if c["title"] and c["section"] == "main"}
    chunks = sum(count_tokens(index.chunk_text(i)) + (count_tokens(c["title"]) if c["title"] and
                                                        c["section"] == "main" else 0)
                 for i, c in enumerate(index.chunks))
    sentences = sum(count_tokens(index.sentence_text(j)) for j in range(len(index.sentences)))
    title_tokens = sum(count_tokens(t) for t in set(titles.values()))
    return (chunks + sentences) / text, (sentences + title_tokens) / text


def main() -> None:
    from rag import Assistant
    from rag.evaluation import load_testset
    from rag.retrieve import HybridSearch
    from train_reader import assistant_for, datasets

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evalsets", type=Path, default=ROOT.parent / "shared" / "evalsets")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-train"), help="indexes of the dev sets")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    sets = []
    if args.evalsets.exists():
        cache: dict = {}
        sets = [(name, questions, assistant_for(index_dir, corpus, cache))
                for name, questions, index_dir, corpus, _, _ in datasets(args.evalsets, args.work)]
    seeds = load_testset(ROOT / "tests" / "data" / "seeds_qa.jsonl").questions
    sets.append(("seeds", [q for q in seeds if q.answerable], Assistant(llm="extractive")))
    rows, costs = [], {}
    for name, questions, assistant in sets:
        questions = [q for q in questions if q.answerable]
        index, embedder = assistant.index, assistant.embedder
        titles = title_vectors(index, embedder)
        stored, means, means_titled = (np.asarray(index.chunk_vectors), made_vectors(index, {}),
                                       made_vectors(index, titles))
        variants = {"stored (title + chunk)": index,
                    "mean of sentences": with_vectors(index, means),
                    "mean of sentences + title": with_vectors(index, means_titled),
                    "best sentence": with_best_sentence(index, means),
                    "best sentence or title": with_best_sentence(index, means, titles),
                    "best sentence + mean": with_best_sentence(index, means, plus_vector=True),
                    "best sentence of the 200 best means": with_best_sentence(index, means, rescore=200),
                    "best sentence + (mean + title) of the 200 best": with_best_sentence(
                        index, means_titled, plus_vector=True, rescore=200),
                    "best sentence + stored of the 200 best stored": with_best_sentence(
                        index, stored, plus_vector=True, rescore=200)}
        for variant, idx in variants.items():
            t = time.perf_counter()
            figures = retrieval_figures(HybridSearch(idx, embedder, k=5), questions)
            rows.append((name, variant, figures))
            print(name, variant, figures, f"{time.perf_counter() - t:.0f} s", flush=True)
        costs.setdefault(str(index.location), (name, *embedder_reads(index)))

    def cell(x):
        return "–" if x is None else f"{x:.3f}"

    table = "\n".join(f"| {name} | {variant} | {f['n']} | {cell(f['recall@1'])} | {cell(f['recall@5'])} | "
                      f"{cell(f['gold@5'])} |" for name, variant, f in rows)
    cost_table = "\n".join(f"| {name} | {built:.2f} | {made:.2f} |" for name, built, made in costs.values())
    body = f"""Written by `python bench/chunk_vectors.py` on {time.strftime('%Y-%m-%d')} ({platform.machine()}, Python
{platform.python_version()}, 2 cores). Hybrid retrieval (e5 + BM25, the default fusion), k=5, over each dev set's
index and the seeds; only the dense side's chunk vectors differ. Recall: the gold document (XQuAD, CMRC) or the
question's evidence (seeds) among the first 1 / 5 passages (RGB has neither); gold@5: a gold answer string in
the first 5 passages.

| set | chunk vectors | answerable | recall@1 | recall@5 | gold@5 |
|---|---|---:|---:|---:|---:|
{table}

What the embedder reads, in cl100k tokens per token of article text:

| index | as built (chunks with titles, then sentences) | sentences and titles only |
|---|---:|---:|
{cost_table}
"""
    if not args.no_write:
        replace_section("Chunk vectors from sentence vectors (issue 14)", body)
    print(body)


if __name__ == "__main__":
    main()
