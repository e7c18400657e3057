"""The index's BM25 (postings per segment, scored at question time) against bm25s, the library it replaced."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rag.index.lexical import LexicalIndex, Postings

bm25s = pytest.importorskip("bm25s")


def _corpus(rng: random.Random, n: int) -> list[list[str]]:
    words = [f"w{i}" for i in range(40)]
    return [[rng.choice(words) for _ in range(rng.randint(1, 12))] for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_scores_equal_bm25s_over_several_segments(seed):
    rng = random.Random(seed)
    corpus = _corpus(rng, 60)
    reference = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    vocab = sorted({t for doc in corpus for t in doc})
    ids = {t: i for i, t in enumerate(vocab)}
    reference.index(bm25s.tokenization.Tokenized(ids=[[ids[t] for t in doc] for doc in corpus], vocab=ids),
                    show_progress=False)
    # the same chunks split over three segments, as three writes would leave them
    cuts = [0, 17, 41, 60]
    lexical = LexicalIndex([(Postings.from_tokens(corpus[a:b]), np.arange(a, b)) for a, b in zip(cuts, cuts[1:])])
    for query in (["w1"], ["w2", "w3", "w3"], rng.sample(vocab, 5)):
        expected = reference.get_scores([ids[t] for t in query])
        weights: dict[str, float] = {}
        for t in query:
            weights[t] = weights.get(t, 0.0) + 1.0
        assert np.allclose(lexical.scores(weights), expected, atol=1e-5)


def test_a_removed_chunk_stops_counting_as_if_it_had_never_been_indexed():
    rng = random.Random(7)
    corpus = _corpus(rng, 30)
    kept = [i for i in range(30) if i % 4]
    positions = np.full(30, -1)
    positions[kept] = np.arange(len(kept))
    after_removal = LexicalIndex([(Postings.from_tokens(corpus), positions)])
    rebuilt = LexicalIndex([(Postings.from_tokens([corpus[i] for i in kept]), np.arange(len(kept)))])
    weights = {"w1": 1.0, "w5": 0.5, "w9": 2.0}
    assert np.allclose(after_removal.scores(weights), rebuilt.scores(weights))
    assert after_removal.idf("w1") == pytest.approx(rebuilt.idf("w1"))
