"""Vectors of a build in progress, saved batch by batch, so a killed ``rag index`` resumes where it stopped.

Embedding is nearly all of an indexing run's time. Each finished batch is written to
``INDEX_DIR/.resume/<embedder>/`` as ``batch-N.npy`` (the vectors) then ``batch-N.json``
(digests of the texts), each by write-then-rename; a batch counts only once its ``.json`` is
there, so a kill mid-write loses at most that batch. The next run reuses every saved vector
whose text is unchanged and embeds the rest. The folder is removed when the index is published.

>>> checkpoint = EmbeddingCheckpoint(Path("/tmp/idx"), "e5-small")   # doctest: +SKIP
>>> checkpoint.lookup(["一段文字"])                                   # doctest: +SKIP
{}
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

FOLDER = ".resume"


def text_digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCheckpoint:
    def __init__(self, index_dir: Path, embedder_spec: str):
        self.root = Path(index_dir) / FOLDER
        self.folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", embedder_spec)
        self._vectors: dict[str, np.ndarray] = {}
        self._batches = 0
        self._load()

    def _load(self) -> None:
        if not self.folder.is_dir():
            return
        for meta in sorted(self.folder.glob("batch-*.json")):
            data = meta.with_suffix(".npy")
            try:
                digests = json.loads(meta.read_text(encoding="utf-8"))
                vectors = np.load(data, allow_pickle=False)
            except (OSError, ValueError):
                continue  # a batch cut short by a kill: embed those texts again
            if len(digests) != len(vectors):
                continue
            self._vectors.update(zip(digests, vectors))
            self._batches += 1

    def __len__(self) -> int:
        return len(self._vectors)

    def lookup(self, texts: list[str]) -> dict[int, np.ndarray]:
        """Saved vectors for ``texts``, by position."""
        if not self._vectors:
            return {}
        found = {}
        for i, text in enumerate(texts):
            vector = self._vectors.get(text_digest(text))
            if vector is not None:
                found[i] = vector
        return found

    def save(self, texts: list[str], vectors: np.ndarray) -> None:
        """Keep one embedded batch."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"batch-{os.getpid()}-{self._batches:06d}"
        self._batches += 1
        data, meta = self.folder / f"{name}.npy", self.folder / f"{name}.json"
        with open(data.with_suffix(".npy.tmp"), "wb") as fh:
            np.save(fh, np.asarray(vectors, dtype=np.float32), allow_pickle=False)
        os.replace(data.with_suffix(".npy.tmp"), data)
        meta.with_suffix(".json.tmp").write_text(json.dumps([text_digest(t) for t in texts]), encoding="utf-8")
        os.replace(meta.with_suffix(".json.tmp"), meta)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
