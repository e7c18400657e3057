"""Shared fixtures: one real seeds index (real embedder, real FAISS/BM25) per test session."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

# Keep caches (jieba, tiktoken, the default index) out of the user's home.
os.environ.setdefault("RAG_HOME", tempfile.mkdtemp(prefix="rag-home-"))

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TESTSET = ROOT / "tests" / "data" / "seeds_qa.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from embeddings import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seeds_index_dir(tmp_path_factory, embedder):
    from rag.indexing import update_index

    index_dir = tmp_path_factory.mktemp("seeds") / "index"
    update_index([SEEDS], index_dir, embedder)
    return index_dir


@pytest.fixture(scope="session")
def assistant(seeds_index_dir, embedder):
    from rag import Assistant

    return Assistant(seeds_index_dir, embedder=embedder)


def load_questions():
    return [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]
