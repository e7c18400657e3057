"""Split article sections into token-budgeted, sentence-aware chunks that remember where they came from.

Splitting is LangChain's ``RecursiveCharacterTextSplitter`` measured in tiktoken
tokens: it cuts at paragraph breaks first, then at sentence ends (。！？!?；;), and only
inside a sentence (at commas) when one sentence alone exceeds the budget.
"""

from __future__ import annotations

import functools

from langchain_core.documents import Document

DEFAULT_CHUNK_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 40

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "! ", "? ", ". ", "；", ";", "，", ",", "、", " ", ""]


@functools.lru_cache(maxsize=8)
def _splitter(chunk_tokens: int, overlap_tokens: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from rag.tokens import ENCODING_NAME, get_encoding

    get_encoding()  # sets the offline cache location before LangChain asks tiktoken
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING_NAME,
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        separators=SEPARATORS,
        keep_separator="end",
        add_start_index=True,
        disallowed_special=(),
    )


def chunk_sections(
    sections: list[Document],
    *,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
) -> list[Document]:
    """Chunk an article's section ``Document``s (from ``rag.ingest``).

    Each chunk's metadata has ``doc_id``, ``title``, ``date``, ``section`` and
    ``start``/``end``: offsets into the article's cleaned text, so
    ``article.text[start:end] == chunk.page_content``.
    """
    if overlap_tokens >= chunk_tokens:
        raise ValueError(f"overlap_tokens ({overlap_tokens}) must be smaller than chunk_tokens ({chunk_tokens})")
    splitter = _splitter(chunk_tokens, overlap_tokens)
    chunks: list[Document] = []
    for section in sections:
        base = section.metadata["start"]
        for piece in splitter.create_documents([section.page_content]):
            start = base + piece.metadata["start_index"]
            meta = {k: v for k, v in section.metadata.items() if k not in ("start", "end")}
            meta.update(start=start, end=start + len(piece.page_content))
            chunks.append(Document(page_content=piece.page_content, metadata=meta))
    return chunks
