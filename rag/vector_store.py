"""Where chunk vectors are searched: FAISS in the index folder (default) or a Milvus collection.

Both answer ``search(query_vector, depth) -> [(chunk position, score), …]`` for the chunks of
one index generation. The retriever fuses that list with BM25, which stays local for both stores:
its query is weighted term by term (English questions become weighted Chinese terms through the
bilingual lexicon, ``rag.retrieve``), which Milvus's built-in BM25 function cannot express, and
Chinese needs our jieba tokens on both sides.

**Milvus** (``--store milvus --milvus-uri URI``): ``URI`` is a Milvus Lite file (``./vectors.db``,
for tests and small deployments) or a server (``http://host:19530``); the same code talks to both
(pymilvus's ``MilvusClient``). One collection per index holds each chunk's vector with its metadata
as fields — ``doc_id``, ``title``, ``date``, ``section``, ``start``, ``end``, ``sha256`` — keyed by a
stable 63-bit hash of (document, content hash, offsets), so an update inserts only new chunks
and deletes only gone ones:

1. before the new generation is published, its chunks that the collection lacks are inserted
   (upsert: a killed run that inserted them already is harmless);
2. after it is published, chunks no generation still needs are deleted.

A reader of the previous generation meanwhile ignores keys it does not know, so it sees the old
index or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

# VARCHAR sizes in UTF-8 bytes; a document id is a path, and Linux paths stop at 4096 bytes.
MILVUS_FIELDS_MAX = {"doc_id": 4096, "title": 1024, "date": 32, "section": 32, "sha256": 64}


def chunk_key(doc_id: str, sha256: str, start: int, end: int) -> int:
    """A stable positive 63-bit id for a chunk of a given version of a document."""
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{start}\0{end}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _clip(text: str | None, max_bytes: int) -> str:
    """``text`` cut to fit a VARCHAR field of ``max_bytes`` UTF-8 bytes, at a character boundary."""
    data = (text or "").encode("utf-8", "surrogatepass")
    return data[:max_bytes].decode("utf-8", "ignore")


def _keys_by_doc(chunks: list[dict]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for c in chunks:
        if "key" in c:
            out.setdefault(c["doc_id"], set()).add(int(c["key"]))
    return out


class FaissStore:
    """The FAISS index saved in the generation folder (``faiss.index``)."""

    kind = "faiss"
    FILE = "faiss.index"

    def __init__(self, index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int) -> "FaissStore":
        from rag.vector_index import build_vector_index

        return cls(build_vector_index(vectors, dim))

    @classmethod
    def load(cls, generation: Path, config: dict) -> "FaissStore":
        import faiss

        from rag.vector_index import prepare_for_search

        index = faiss.read_index(str(generation / cls.FILE))
        prepare_for_search(index)
        return cls(index)

    def write(self, generation: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(generation / self.FILE))

    needs_previous = False

    def publish(self, chunks: list[dict], vectors: np.ndarray, documents: dict, previous: list[dict]) -> None:
        """Nothing to do before publishing: the index lives in the generation folder."""

    def clean_up(self, chunks: list[dict], previous: list[dict], retired: list[dict]) -> None:
        """Nothing to do after publishing: old generations go with their folders."""

    def config(self) -> dict:
        return {"kind": self.kind}

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]:
        scores, ids = self.index.search(np.asarray(query, dtype=np.float32)[None, :], depth)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


class MilvusStore:
    """A Milvus collection (Milvus Lite file or server) holding the index's chunk vectors."""

    kind = "milvus"
    needs_previous = True  # publish and clean_up compare with the generation being replaced
    _clients: dict[str, object] = {}
    _clients_lock = threading.Lock()

    def __init__(self, uri: str, collection: str, dim: int, keys: np.ndarray | None = None, token: str = ""):
        self.uri, self.collection, self.dim, self.token = uri, collection, dim, token
        self.keys = np.asarray(keys if keys is not None else [], dtype=np.int64)
        self._position = {int(k): i for i, k in enumerate(self.keys)}

    # ---- connection --------------------------------------------------------------------------
    @property
    def client(self):
        """One client per URI and process (Milvus Lite allows one process per file)."""
        with MilvusStore._clients_lock:
            if self.uri not in MilvusStore._clients:
                import logging

                try:
                    from pymilvus import MilvusClient
                except ImportError:
                    from rag.errors import RagError

                    raise RagError("This index keeps its vectors in Milvus, which needs pymilvus and milvus-lite: "
                                   "pip install 'rag-news-qa[milvus]'") from None

                # Milvus Lite's embedded gRPC server logs a traceback for calls it does not implement
                # (AllocTimestamp); the client falls back by itself, so the trace is noise.
                logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
                logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)  # its errors reach us as exceptions

                uri = self.uri if "://" in self.uri else str(Path(self.uri).expanduser().resolve())
                try:
                    MilvusStore._clients[self.uri] = MilvusClient(uri=uri, token=self.token)
                except Exception as exc:  # pymilvus raises its own exception types per failure
                    from rag.errors import RagError

                    if "://" not in self.uri:
                        raise RagError(
                            f"Could not open the Milvus Lite file {uri}: {exc}. Milvus Lite lets one process "
                            f"use a file at a time — is `rag chat` or another `rag index` using it? Add articles "
                            f"from that page, stop it first, or use a Milvus server (--milvus-uri http://host:19530)."
                        ) from exc
                    raise RagError(f"Could not connect to Milvus at {uri}: {exc}") from exc
            return MilvusStore._clients[self.uri]

    def ensure_collection(self, n_vectors: int) -> None:
        from pymilvus import DataType

        from rag.vector_index import HNSW_EF_CONSTRUCTION, HNSW_M, index_kind

        client = self.client
        if client.has_collection(self.collection):
            return
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        for name, length in MILVUS_FIELDS_MAX.items():
            schema.add_field(name, DataType.VARCHAR, max_length=length)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        params = client.prepare_index_params()
        if index_kind(n_vectors) == "flat":
            params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        else:
            params.add_index(field_name="vector", index_type="HNSW", metric_type="IP",
                             params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
        params.add_index(field_name="doc_id", index_type="INVERTED")
        client.create_collection(self.collection, schema=schema, index_params=params)

    # ---- the store interface -----------------------------------------------------------------
    @classmethod
    def build(cls, chunks: list[dict], vectors: np.ndarray, dim: int, config: dict) -> "MilvusStore":
        keys = np.array([c["key"] for c in chunks], dtype=np.int64)
        return cls(config["uri"], config["collection"], dim, keys, os.environ.get("MILVUS_TOKEN", ""))

    @classmethod
    def load(cls, generation: Path, config: dict, dim: int) -> "MilvusStore":
        keys = np.load(generation / "chunk_keys.npy", allow_pickle=False)
        return cls(config["uri"], config["collection"], dim, keys, os.environ.get("MILVUS_TOKEN", ""))

    def write(self, generation: Path) -> None:
        np.save(generation / "chunk_keys.npy", self.keys, allow_pickle=False)

    def config(self) -> dict:
        return {"kind": self.kind, "uri": self.uri, "collection": self.collection}

    def publish(self, chunks: list[dict], vectors: np.ndarray, documents: dict, previous: list[dict]) -> None:
        """Insert the chunks the live generation (``previous``) does not have, before the new one goes live.

        Upsert, so chunks a killed run inserted already are simply written again.
        """
        live_keys = {int(c["key"]) for c in previous if "key" in c}
        if not self.client.has_collection(self.collection):
            live_keys = set()  # a new (or dropped) collection: everything goes in
        self.ensure_collection(len(chunks))
        rows = [
            {"id": int(c["key"]), "vector": np.asarray(vectors[i], dtype=np.float32).tolist(),
             **{name: _clip(value, MILVUS_FIELDS_MAX[name]) for name, value in (
                 ("doc_id", c["doc_id"]), ("title", c.get("title")), ("date", c.get("date")),
                 ("section", c.get("section")), ("sha256", documents[c["doc_id"]].get("sha256")))},
             "start": int(c["start"]), "end": int(c["end"])}
            for i, c in enumerate(chunks) if int(c["key"]) not in live_keys
        ]
        for i in range(0, len(rows), 1000):
            self.client.upsert(self.collection, rows[i: i + 1000])
        if rows:
            self.client.flush(self.collection)
        self._loaded = False

    def clean_up(self, chunks: list[dict], previous: list[dict], retired: list[dict]) -> None:
        """After the new generation is published, delete rows no kept generation uses: those of the
        generation just retired (``retired``), and for documents that changed, any a killed run left behind.
        The previous generation stays searchable for readers that still hold it."""
        new, old = _keys_by_doc(chunks), _keys_by_doc(previous)
        kept = set().union(*new.values(), *old.values())
        stale = sorted({int(c["key"]) for c in retired if "key" in c} - kept)
        for i in range(0, len(stale), 1000):
            self.client.delete(self.collection, ids=stale[i: i + 1000])
        for doc_id in sorted(d for d in set(new) | set(old) if new.get(d) != old.get(d)):
            keep = sorted(new.get(doc_id, set()) | old.get(doc_id, set()))
            expr = f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}"
            self.client.delete(self.collection, filter=expr + (f" and id not in {keep}" if keep else ""))

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]:
        from rag.vector_index import HNSW_EF_SEARCH

        if not getattr(self, "_loaded", False):  # a collection starts "released" in a new process
            self.client.load_collection(self.collection)
            self._loaded = True

        # a little deeper than asked: keys of a generation being written are skipped
        hits = self.client.search(self.collection, data=[np.asarray(query, dtype=np.float32).tolist()],
                                  limit=depth + 16, output_fields=[],
                                  search_params={"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, depth)}})
        out = []
        for hit in hits[0]:
            position = self._position.get(int(hit["id"]))
            if position is not None:
                out.append((position, float(hit["distance"])))
        return out[:depth]
