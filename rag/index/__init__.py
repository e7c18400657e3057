"""The index: articles as documents, chunks and sentences, with their vectors and BM25, on disk and in memory.

- ``layout``: the folder (generations, the ``CURRENT`` pointer, the writer's lock).
- ``records``: documents, chunks and sentences made from cleaned articles (no I/O).
- ``segments``: the immutable pieces an index is stacked from, one per write that added documents.
- ``lexical``: tokens as postings, BM25, idf, vocabulary.
- ``vectors``: the one vector-backend protocol and its FAISS and Milvus implementations.
- ``update``: plan → assemble → publish (``update_index``, ``remove_documents``), with ``checkpoint``
  keeping a killed build's vectors.
- ``article_index``: one generation in memory (``ArticleIndex``), what the retriever and reader read.
"""

from rag.index.article_index import ArticleIndex
from rag.index.update import IndexReport, Skipped, remove_documents, update_index

__all__ = ["ArticleIndex", "IndexReport", "Skipped", "remove_documents", "update_index"]
