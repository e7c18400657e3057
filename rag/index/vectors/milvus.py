"""The Milvus backend: chunk vectors in a Milvus collection (a Milvus Lite file or a server).

BM25 stays local (``rag.index.lexical``): its query is weighted term by term (English questions become
weighted Chinese terms through the bilingual lexicon, ``rag.retrieve``), which Milvus's built-in BM25
function cannot express, and Chinese needs our jieba tokens on both sides.

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

import json
import os
import threading
from pathlib import Path

import numpy as np

# VARCHAR sizes in UTF-8 bytes; a document id is a path, and Linux paths stop at 4096 bytes.
MILVUS_FIELDS_MAX = {"doc_id": 4096, "title": 1024, "date": 32, "section": 32, "sha256": 64}


def _clip(text: str | None, max_bytes: int) -> str:
    """``text`` cut to fit a VARCHAR field of ``max_bytes`` UTF-8 bytes, at a character boundary."""
    data = (text or "").encode("utf-8", "surrogatepass")
    return data[:max_bytes].decode("utf-8", "ignore")


class MilvusBackend:
    """A Milvus collection (Milvus Lite file or server) holding the index's chunk vectors."""

    kind = "milvus"
    needs_previous = True  # publish and clean_up compare with the generation being replaced
    _clients: dict[str, object] = {}
    _clients_lock = threading.Lock()

    def __init__(self, config: dict, dim: int, keys=None):
        self.uri, self.collection, self.dim = config["uri"], config["collection"], dim
        self.token = os.environ.get("MILVUS_TOKEN", "")
        self.keys = [int(k) for k in (keys if keys is not None else [])]
        self._position = {k: i for i, k in enumerate(self.keys)}

    # ---- connection --------------------------------------------------------------------------
    @property
    def client(self):
        """One client per URI and process (Milvus Lite allows one process per file)."""
        with MilvusBackend._clients_lock:
            if self.uri not in MilvusBackend._clients:
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
                    MilvusBackend._clients[self.uri] = MilvusClient(uri=uri, token=self.token)
                except Exception as exc:  # pymilvus raises its own exception types per failure
                    from rag.errors import RagError

                    if "://" not in self.uri:
                        raise RagError(
                            f"Could not open the Milvus Lite file {uri}: {exc}. Milvus Lite lets one process "
                            f"use a file at a time — is `rag chat` or another `rag index` using it? Add articles "
                            f"from that page, stop it first, or use a Milvus server (--milvus-uri http://host:19530)."
                        ) from exc
                    raise RagError(f"Could not connect to Milvus at {uri}: {exc}") from exc
            return MilvusBackend._clients[self.uri]

    def ensure_collection(self, n_vectors: int) -> None:
        from pymilvus import DataType

        from rag.index.vectors.faiss_backend import HNSW_EF_CONSTRUCTION, HNSW_M, index_kind

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

    # ---- the backend interface ---------------------------------------------------------------
    @classmethod
    def load(cls, config: dict, dim: int, chunks: list[dict]) -> "MilvusBackend":
        return cls(config, dim, [c["key"] for c in chunks])

    def add(self, vectors: np.ndarray, chunks: list[dict]) -> None:
        """The new chunks' keys; their rows go into the collection when the generation is published."""
        for c in chunks:
            self._position[int(c["key"])] = len(self.keys)
            self.keys.append(int(c["key"]))

    def remove(self, positions: np.ndarray) -> None:
        gone = {int(p) for p in positions}
        self.keys = [k for i, k in enumerate(self.keys) if i not in gone]
        self._position = {k: i for i, k in enumerate(self.keys)}

    def write(self, generation: Path) -> None:
        """Nothing: the generation's chunk records carry the keys."""

    def config(self) -> dict:
        return {"kind": self.kind, "uri": self.uri, "collection": self.collection}

    def publish(self, chunks: list[dict], vectors, documents: dict, previous_keys: set[int]) -> None:
        """Insert the chunks the live generation (``previous_keys``) does not have, before the new one goes live.

        Upsert, so chunks a killed run inserted already are simply written again.
        """
        if not self.client.has_collection(self.collection):
            previous_keys = set()  # a new (or dropped) collection: everything goes in
        self.ensure_collection(len(chunks))
        wanted = [i for i, c in enumerate(chunks) if int(c["key"]) not in previous_keys]
        wanted_vectors = np.asarray(vectors[wanted], dtype=np.float32) if wanted else np.zeros((0, self.dim))
        rows = [
            {"id": int(chunks[i]["key"]), "vector": wanted_vectors[n].tolist(),
             **{name: _clip(value, MILVUS_FIELDS_MAX[name]) for name, value in (
                 ("doc_id", chunks[i]["doc_id"]), ("title", chunks[i].get("title")), ("date", chunks[i].get("date")),
                 ("section", chunks[i].get("section")), ("sha256", documents[chunks[i]["doc_id"]].get("sha256")))},
             "start": int(chunks[i]["start"]), "end": int(chunks[i]["end"])}
            for n, i in enumerate(wanted)
        ]
        for i in range(0, len(rows), 1000):
            self.client.upsert(self.collection, rows[i: i + 1000])
        if rows:
            self.client.flush(self.collection)
        self._loaded = False

    def clean_up(self, kept_keys: set[int], retired_keys: set[int], touched: dict[str, set[int]]) -> None:
        """After the new generation is published, delete the rows of the generation it retired that neither
        it nor its predecessor uses (the predecessor stays searchable for readers that still hold it), and
        for each document this write changed (``touched``: its keys the two kept generations use) any row a
        killed run left behind."""
        stale = sorted(retired_keys - kept_keys)
        for i in range(0, len(stale), 1000):
            self.client.delete(self.collection, ids=stale[i: i + 1000])
        for doc_id, keep in sorted(touched.items()):
            expr = f"doc_id == {json.dumps(doc_id, ensure_ascii=False)}"
            self.client.delete(self.collection, filter=expr + (f" and id not in {sorted(keep)}" if keep else ""))

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, query: np.ndarray, depth: int) -> list[tuple[int, float]]:
        from rag.index.vectors.faiss_backend import HNSW_EF_SEARCH

        if not self.keys:
            return []
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
