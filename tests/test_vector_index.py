"""The vector index and the rule that picks exact or HNSW search by size."""

import faiss
import numpy as np

from conftest import SEEDS
from rag.index.vectors import faiss_backend as vector_index
from rag.index.vectors.faiss_backend import build_vector_index, index_kind, prepare_for_search


def _vectors(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_up_to_the_threshold_then_hnsw():
    assert index_kind(vector_index.EXACT_MAX_VECTORS) == "flat"
    assert index_kind(vector_index.EXACT_MAX_VECTORS + 1) == "hnsw"
    assert isinstance(build_vector_index(_vectors(100), 64), faiss.IndexFlatIP)


def test_hnsw_finds_the_exact_neighbours_on_small_data_and_survives_a_round_trip(tmp_path):
    data, queries = _vectors(3000), _vectors(50, seed=1)
    exact = build_vector_index(data, 64, "flat").search(queries, 10)[1]
    hnsw = build_vector_index(data, 64, "hnsw")
    path = str(tmp_path / "hnsw.index")
    faiss.write_index(hnsw, path)
    loaded = faiss.read_index(path)
    prepare_for_search(loaded)
    assert faiss.downcast_index(loaded).hnsw.efSearch >= vector_index.HNSW_EF_SEARCH
    found = loaded.search(queries, 10)[1]
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])
    assert recall >= 0.95


def test_an_index_over_the_threshold_uses_hnsw_and_still_answers(monkeypatch, tmp_path, embedder):
    from rag import Assistant

    monkeypatch.setattr(vector_index, "EXACT_MAX_VECTORS", 5)  # the seeds have more chunks than this
    assistant = Assistant.build([SEEDS], tmp_path / "index", embedder=embedder)
    assert isinstance(faiss.downcast_index(assistant.index.vector_store.index), faiss.IndexHNSWFlat)
    result = assistant.ask("When does the smart port open?")
    assert result.citations[0].quote.startswith("该项目预计于2024年12月底建成投入使用")
