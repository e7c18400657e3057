"""The index's lexical side: every chunk's jieba tokens as postings, BM25 over them, idf, the vocabulary.

An index is a stack of immutable segments (``rag.index.segments``), one per write that added documents.
Each segment keeps its chunks' tokens as an inverted list (``Postings``: for each token of the segment,
the chunks that hold it and how often) written once, when the segment is; a later write never tokenises
those chunks again. ``LexicalIndex`` searches all live segments at once, with the collection's statistics
(chunk count, average length, document frequencies) taken over the chunks still live, so a removed
document stops counting the moment the manifest drops it.

The scores are bm25s's, which the index used before (its default: the Lucene variant with k1 = 1.5,
b = 0.75): idf = ln(1 + (N − df + 0.5) / (df + 0.5)) and tf / (tf + k1 · (1 − b + b · dl / avgdl)). bm25s
itself precomputes every (chunk, token) score with the whole collection's idf, so adding one chunk
means recomputing all of them (4 s at 100,000 chunks from token ids); computing scores at query time
from postings is what lets a write cost only what it adds.

>>> p = Postings.from_tokens([["谅山", "口岸"], ["口岸", "口岸", "智慧"]])
>>> lex = LexicalIndex([(p, np.array([0, 1]))])
>>> [round(float(s), 3) for s in lex.scores({"智慧": 1.0})]
[0.0, 0.254]
>>> round(lex.idf("口岸"), 3), "智慧" in lex.vocabulary
(0.182, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75
EMPTY = "∅"  # the token of a chunk without any (bm25s needed one; kept so scores stay as they were)


@dataclass
class Postings:
    """One segment's chunks as an inverted list."""

    tokens: list[str]  # the segment's vocabulary, sorted
    indptr: np.ndarray  # entries of tokens[t] are [indptr[t], indptr[t + 1])
    chunks: np.ndarray  # the chunk (within the segment) of each entry
    counts: np.ndarray  # how often the token occurs in that chunk
    lengths: np.ndarray  # tokens in each chunk

    @classmethod
    def from_tokens(cls, chunk_tokens: list[list[str]]) -> "Postings":
        chunk_tokens = [tokens or [EMPTY] for tokens in chunk_tokens]
        vocabulary = sorted({t for tokens in chunk_tokens for t in tokens})
        ids = {t: i for i, t in enumerate(vocabulary)}
        flat = np.fromiter((ids[t] for tokens in chunk_tokens for t in tokens), dtype=np.int64,
                           count=sum(map(len, chunk_tokens)))
        owner = np.repeat(np.arange(len(chunk_tokens), dtype=np.int64), [len(t) for t in chunk_tokens])
        pairs, counts = np.unique(flat * max(1, len(chunk_tokens)) + owner, return_counts=True)
        token_of, chunk_of = np.divmod(pairs, max(1, len(chunk_tokens)))
        indptr = np.searchsorted(token_of, np.arange(len(vocabulary) + 1))
        return cls(vocabulary, indptr.astype(np.int64), chunk_of.astype(np.int32), counts.astype(np.int32),
                   np.array([len(t) for t in chunk_tokens], dtype=np.int32))

    def save(self, folder: Path) -> None:
        (folder / "tokens.json").write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")
        np.savez(folder / "postings.npz", indptr=self.indptr, chunks=self.chunks, counts=self.counts,
                 lengths=self.lengths)

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        tokens = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
        with np.load(folder / "postings.npz", allow_pickle=False) as data:
            return cls(tokens, data["indptr"], data["chunks"], data["counts"], data["lengths"])

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def merge(cls, parts: list[tuple["Postings", np.ndarray]], n_chunks: int) -> "Postings":
        """One inverted list for the chunks of several: ``parts`` pairs each ``Postings`` with the position each
        of its chunks takes in the merged one (-1: left out). Nothing is tokenised again.

        >>> a, b = Postings.from_tokens([["口岸"], ["谅山"]]), Postings.from_tokens([["口岸", "口岸"]])
        >>> m = Postings.merge([(a, np.array([0, -1])), (b, np.array([1]))], 2)
        >>> m.tokens, m.counts.tolist(), m.lengths.tolist()
        (['口岸'], [1, 2], [1, 2])
        """
        vocabulary = sorted({t for p, _ in parts for t in p.tokens})
        ids = {t: i for i, t in enumerate(vocabulary)}
        tokens, chunks, counts = [], [], []
        lengths = np.zeros(n_chunks, dtype=np.int32)
        for p, positions in parts:
            positions = np.asarray(positions, dtype=np.int64)
            local_to_global = np.array([ids[t] for t in p.tokens], dtype=np.int64)
            token_of = np.repeat(local_to_global, np.diff(p.indptr))
            where = positions[p.chunks]
            keep = where >= 0
            tokens.append(token_of[keep])
            chunks.append(where[keep])
            counts.append(p.counts[keep])
            alive = positions >= 0
            lengths[positions[alive]] = p.lengths[alive]
        token_of = np.concatenate(tokens) if tokens else np.zeros(0, np.int64)
        chunk_of = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
        count_of = np.concatenate(counts) if counts else np.zeros(0, np.int32)
        order = np.lexsort((chunk_of, token_of))
        token_of, chunk_of, count_of = token_of[order], chunk_of[order], count_of[order]
        used = np.unique(token_of)  # tokens only left-out chunks had are dropped
        renumber = np.full(len(vocabulary), -1, dtype=np.int64)
        renumber[used] = np.arange(len(used))
        token_of = renumber[token_of]
        indptr = np.searchsorted(token_of, np.arange(len(used) + 1))
        return cls([vocabulary[i] for i in used], indptr.astype(np.int64), chunk_of.astype(np.int32),
                   count_of.astype(np.int32), lengths)


class LexicalIndex:
    """BM25 and idf over the live chunks of several segments.

    ``segments`` pairs each segment's ``Postings`` with where its chunks stand in the index
    (``positions[local chunk]``; -1 for a chunk of a removed document)."""

    def __init__(self, segments: list[tuple[Postings, np.ndarray]]):
        self._segments = []
        total = live = 0
        length = 0
        df: dict[str, int] = {}
        for postings, positions in segments:
            positions = np.asarray(positions, dtype=np.int64)
            alive = positions >= 0
            lookup = {t: i for i, t in enumerate(postings.tokens)}
            entry_alive = alive[postings.chunks]
            per_token = np.add.reduceat(entry_alive.astype(np.int64), postings.indptr[:-1]) if len(
                postings.chunks) else np.zeros(len(postings.tokens), dtype=np.int64)
            empty = postings.indptr[:-1] == postings.indptr[1:]
            per_token[empty] = 0  # reduceat repeats the next value for an empty run
            for t, n in zip(postings.tokens, per_token.tolist()):
                if n:
                    df[t] = df.get(t, 0) + n
            self._segments.append((postings, positions, lookup))
            live += int(alive.sum())
            length += int(postings.lengths[alive].sum())
            total = max(total, int(positions.max()) + 1 if len(positions) else 0)
        self.n_chunks = total  # positions run over 0..n_chunks-1
        self.n_live = live
        self.average_length = length / live if live else 1.0
        self._df = df
        self.vocabulary = frozenset(t for t in df if t != EMPTY)

    def doc_freq(self, token: str) -> int:
        return self._df.get(token, 0)

    def idf(self, token: str) -> float:
        """ln((N + 1) / (df + 0.5)) over the live chunks (highest for a token no chunk has): the reader's idf."""
        return float(np.log((self.n_live + 1) / (self._df.get(token, 0) + 0.5)))

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        """Every chunk's BM25 score for the weighted query terms (0 for chunks holding none of them)."""
        out = np.zeros(self.n_chunks, dtype=np.float32)
        n = self.n_live
        for token, weight in weights.items():
            df = self._df.get(token, 0)
            if not df or not weight:
                continue
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            for postings, positions, lookup in self._segments:
                t = lookup.get(token)
                if t is None:
                    continue
                a, b = postings.indptr[t], postings.indptr[t + 1]
                local = postings.chunks[a:b]
                where = positions[local]
                keep = where >= 0
                tf = postings.counts[a:b][keep].astype(np.float32)
                dl = postings.lengths[local[keep]].astype(np.float32)
                tfc = tf / (K1 * ((1 - B) + B * dl / self.average_length) + tf)
                np.add.at(out, where[keep], np.float32(weight * idf) * tfc)
        return out
