"""The index's records, no I/O: documents, their chunks and their sentences, made from cleaned articles.

A chunk record has ``doc_id``, ``title``, ``date``, ``section``, ``start``, ``end`` (offsets into its
document's text), ``sentence_ids`` (positions in the same records' sentence list) and ``key`` (a stable
63-bit id of the chunk of this version of the document, which a vector database keys it by). A sentence
record has ``doc_id``, ``start``, ``end``. What the embedder reads for each comes along.

>>> from rag.ingest import Article
>>> from langchain_core.documents import Document
>>> text = "标题\\n\\n该项目预计于2024年12月底建成。旨在实现目标。"
>>> body = Document(page_content=text[4:], metadata={"doc_id": "a.txt", "title": "标题", "date": None,
...                                                  "section": "main", "start": 4, "end": len(text)})
>>> records = records_of([(None, Article("a.txt", "标题", None, text, "f00", [body]))])
>>> [text[s["start"]:s["end"]] for s in records.sentences]
['该项目预计于2024年12月底建成。', '旨在实现目标。']
>>> records.documents["a.txt"]["n_chunks"], records.chunk_inputs[0][:3]
(1, '标题\\n')
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from rag.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS, chunk_sections
from rag.sentences import split_sentences


def chunk_key(doc_id: str, sha256: str, start: int, end: int) -> int:
    """A stable positive 63-bit id for a chunk of a given version of a document."""
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{start}\0{end}".encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass
class Records:
    documents: dict[str, dict] = field(default_factory=dict)  # doc id -> text, title, date, sha256, root, path, n_chunks
    chunks: list[dict] = field(default_factory=list)
    sentences: list[dict] = field(default_factory=list)
    chunk_inputs: list[str] = field(default_factory=list)  # what the embedder reads, one per chunk
    sentence_inputs: list[str] = field(default_factory=list)  # and one per sentence

    def chunk_text(self, i: int) -> str:
        c = self.chunks[i]
        return self.documents[c["doc_id"]]["text"][c["start"]:c["end"]]


def records_of(articles, chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
               overlap_tokens: int = DEFAULT_OVERLAP_TOKENS) -> Records:
    """Chunk and split ``articles`` (pairs of ``rag.ingest.SourceFile`` or None, and ``Article``)."""
    out = Records()
    for source, article in articles:
        out.documents[article.doc_id] = {
            "text": article.text, "title": article.title, "date": article.date, "sha256": article.sha256,
            "root": str(source.root) if source is not None else None,
            "path": str(source.path) if source is not None else None,
            **({"pages": article.pages} if article.pages else {}), **article.about,
        }
        sentence_ids: dict[tuple[int, int], int] = {}
        for piece in chunk_sections(article.sections, chunk_tokens=chunk_tokens, overlap_tokens=overlap_tokens):
            meta = piece.metadata
            ids = []
            for s in split_sentences(piece.page_content, offset=meta["start"]):
                key = (s.start, s.end)
                if key not in sentence_ids:
                    sentence_ids[key] = len(out.sentences)
                    out.sentences.append({"doc_id": article.doc_id, "start": s.start, "end": s.end})
                    out.sentence_inputs.append(s.text)
                ids.append(sentence_ids[key])
            out.chunks.append({
                "doc_id": article.doc_id, "title": article.title, "date": article.date, "section": meta["section"],
                "start": meta["start"], "end": meta["end"], "sentence_ids": ids,
                "key": chunk_key(article.doc_id, article.sha256, meta["start"], meta["end"]),
            })
            # The title gives a chunk its topic; related-news chunks belong to other stories.
            titled = article.title and meta["section"] == "main"
            out.chunk_inputs.append(f"{article.title}\n{piece.page_content}" if titled else piece.page_content)
    counts = Counter(c["doc_id"] for c in out.chunks)
    for doc_id, doc in out.documents.items():
        doc["n_chunks"] = counts.get(doc_id, 0)
    return out
