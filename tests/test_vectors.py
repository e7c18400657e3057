"""The vector-backend contract (``rag.index.vectors``), run over both backends: FAISS and Milvus (Milvus Lite)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.vectors import build_backend

DIM = 8


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _chunks(n: int, first: int = 0) -> list[dict]:
    return [{"key": 1000 + first + i, "doc_id": f"doc-{(first + i) // 3}.txt", "title": "t", "date": None,
             "section": "main", "start": 0, "end": 10} for i in range(n)]


@pytest.fixture(params=["faiss", "milvus"])
def backend(request, tmp_path):
    if request.param == "faiss":
        return build_backend({"kind": "faiss"}, DIM)
    pytest.importorskip("pymilvus")
    return build_backend({"kind": "milvus", "uri": str(tmp_path / "vectors.db"), "collection": "contract"}, DIM)


def _published(backend, vectors, chunks, previous=frozenset()):
    """What the update path does for a new generation: add in memory, then publish before it goes live."""
    documents = {c["doc_id"]: {"sha256": "0" * 64} for c in chunks}
    backend.publish(chunks, vectors, documents, set(previous))


def test_a_backend_finds_each_vector_at_its_position(backend):
    vectors, chunks = _vectors(12), _chunks(12)
    backend.add(vectors, chunks)
    _published(backend, vectors, chunks)
    assert len(backend) == 12
    for i in (0, 5, 11):
        hits = backend.search(vectors[i], 3)
        assert hits[0][0] == i and hits[0][1] == pytest.approx(1.0, abs=1e-4)
        assert len(hits) == 3 and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_removed_positions_are_gone_and_the_rest_move_up(backend):
    vectors, chunks = _vectors(10), _chunks(10)
    backend.add(vectors, chunks)
    _published(backend, vectors, chunks)
    backend.remove(np.array([2, 3]))
    kept = [i for i in range(10) if i not in (2, 3)]
    assert len(backend) == 8
    for new_position, old in enumerate(kept):
        assert backend.search(vectors[old], 1)[0][0] == new_position
    found = {p for p, _ in backend.search(vectors[2], 8)}
    assert found <= set(range(8))


def test_added_chunks_take_the_next_positions(backend):
    first, second = _vectors(6, seed=1), _vectors(4, seed=2)
    backend.add(first, _chunks(6))
    _published(backend, first, _chunks(6))
    backend.add(second, _chunks(4, first=6))
    everything = np.vstack([first, second])
    _published(backend, everything, _chunks(10), previous={c["key"] for c in _chunks(6)})
    assert len(backend) == 10
    assert backend.search(second[3], 1)[0][0] == 9


def test_an_empty_backend_finds_nothing(backend):
    assert len(backend) == 0
    assert backend.search(_vectors(1)[0], 5) == []


def test_the_config_says_which_backend_it_is(backend):
    assert backend.config()["kind"] == backend.kind
