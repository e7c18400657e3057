"""The hybrid search as a LangChain retriever (``Assistant.retriever``): passages as ``Document``s.

Kept apart from ``rag.retrieve`` because importing LangChain's retriever machinery (its tracers, LangSmith's
schemas) costs about half a second, which a one-off ``rag ask`` should not pay.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.index import ArticleIndex
from rag.retrieve import HybridSearch, RetrievalResult


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval over an ``ArticleIndex``, as a LangChain retriever.

    >>> from rag import Assistant
    >>> retriever = Assistant().retriever                                    # doctest: +SKIP
    >>> docs = retriever.invoke("When does the smart port open?")            # doctest: +SKIP
    >>> docs[0].metadata["doc_id"], docs[0].metadata["score"]                # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: ArticleIndex
    embedder: object
    k: int = 5
    candidates: int = 50

    def search(self, question: str, k: int | None = None, *, keep=None) -> RetrievalResult:
        """``HybridSearch.search``: the ``k`` best passages, with everything the answerers need."""
        return HybridSearch(self.index, self.embedder, self.k, self.candidates).search(question, k, keep=keep)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[Document]:
        """``retriever.invoke(question, k=2)`` returns that many passages (LangChain hands ``k`` through)."""
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a whole number of passages, 1 or more; got {k!r}")
        return [
            Document(
                page_content=p.text,
                metadata={
                    "doc_id": p.doc_id, "title": p.title, "date": p.date, "section": p.section,
                    "start": p.start, "end": p.end, "score": p.score, "chunk_id": p.chunk_id,
                },
            )
            for p in self.search(query, k).passages
        ]
