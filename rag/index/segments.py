"""Segments: the immutable pieces an index is stacked from, one per write that added documents.

::

    INDEX_DIR/segments/seg-<time>-<rand>/
      documents.json        the segment's documents' metadata (title, date, hash, file)
      texts.json            their cleaned text (chunk and sentence offsets point into it)
      chunks.json           chunk records (``rag.index.records``), sentence ids local to the segment
      sentences.json        sentence records
      chunk_vectors.npy     float32, one row per chunk (normalised)
      sentence_vectors.npy  float32, one row per sentence
      tokens.json, postings.npz   the chunks' jieba tokens as an inverted list (``rag.index.lexical``)

A segment is written completely in a hidden folder and then renamed into place; a generation's manifest
(``rag.index.layout``) lists the segments it is made of and the documents it no longer counts (removed or
replaced by a newer version in a later segment). Nothing in a segment changes after it is written, so a
process reads each segment once (``read_segment`` caches it) and a write costs only its own segment.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.index.layout import fsync_tree, read_json, write_json
from rag.index.lexical import Postings
from rag.index.records import Records

FOLDER = "segments"


@dataclass
class Segment:
    id: str
    folder: Path
    documents: dict[str, dict]  # metadata, without the text
    chunks: list[dict]
    chunk_vectors: np.ndarray  # memory-mapped
    sentence_vectors: np.ndarray
    postings: Postings
    _texts: dict[str, str] | None = None
    _sentences: list[dict] | None = None

    @property
    def texts(self) -> dict[str, str]:
        """The documents' text, read when first asked for (a write needs none of it)."""
        if self._texts is None:
            self._texts = read_json(self.folder / "texts.json")
        return self._texts

    @property
    def sentences(self) -> list[dict]:
        """The sentence records, read when first asked for (a write needs none of the kept segments')."""
        if self._sentences is None:
            self._sentences = read_json(self.folder / "sentences.json")
        return self._sentences


def write_segment(index_dir: Path, records: Records, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray,
                  postings: Postings) -> str:
    """Write a new segment; returns its id. It counts for nothing until a manifest lists it."""
    if not (len(records.chunks) == len(chunk_vectors) == len(postings)
            and len(records.sentences) == len(sentence_vectors)):
        raise ValueError("a segment's records, vectors and postings must have one row per chunk / sentence")
    root = Path(index_dir) / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    seg_id = f"seg-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    building = root / f".building-{seg_id}"
    building.mkdir()
    write_json(building / "documents.json", {d: {k: v for k, v in doc.items() if k != "text"}
                                             for d, doc in records.documents.items()})
    write_json(building / "texts.json", {d: doc["text"] for d, doc in records.documents.items()})
    write_json(building / "chunks.json", records.chunks)
    write_json(building / "sentences.json", records.sentences)
    np.save(building / "chunk_vectors.npy", np.asarray(chunk_vectors, dtype=np.float32), allow_pickle=False)
    np.save(building / "sentence_vectors.npy", np.asarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
    postings.save(building)
    fsync_tree(building)
    building.rename(root / seg_id)
    return seg_id


_cache: dict[Path, Segment] = {}
_cache_lock = threading.Lock()


def read_segment(index_dir: Path, seg_id: str) -> Segment:
    """A segment as written (read once per process: segments never change)."""
    folder = (Path(index_dir) / FOLDER / seg_id).resolve()
    with _cache_lock:
        if folder not in _cache:
            _cache[folder] = Segment(
                id=seg_id,
                folder=folder,
                documents=read_json(folder / "documents.json"),
                chunks=read_json(folder / "chunks.json"),
                chunk_vectors=np.load(folder / "chunk_vectors.npy", allow_pickle=False, mmap_mode="r"),
                sentence_vectors=np.load(folder / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r"),
                postings=Postings.load(folder),
            )
        return _cache[folder]


def forget(folder: Path) -> None:
    """Drop a deleted segment from the cache."""
    with _cache_lock:
        _cache.pop(Path(folder).resolve(), None)


def segment_ids(index_dir: Path) -> list[str]:
    """The segments on disk (written completely), whether a manifest lists them or not."""
    root = Path(index_dir) / FOLDER
    return sorted(p.name for p in root.glob("seg-*")) if root.is_dir() else []
