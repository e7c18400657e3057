"""The records the assistant returns: `Answer`, its `Citation`s and retrieved `Passage`s.

Their JSON form (``Answer.to_dict()``) is what ``rag ask --json`` prints and what
``rag eval`` stores per question, so fields are only ever added, never renamed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class Passage:
    """A retrieved chunk with its place in the source document and its scores."""

    chunk_id: int
    doc_id: str
    title: str
    date: str | None
    section: str
    text: str
    start: int
    end: int
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0


@dataclass
class Citation:
    """What an ``[n]`` marker in the answer points at.

    ``quote`` is a verbatim substring of the source document:
    ``document_text[start:end] == quote``. ``text`` is the whole passage it was found in. ``page`` is the
    page the quote starts on, for a PDF (None otherwise).
    """

    n: int
    doc_id: str
    title: str
    date: str | None
    section: str
    quote: str
    text: str
    score: float
    start: int
    end: int
    chunk_id: int
    page: int | None = None


@dataclass
class Answer:
    """An answer to one question.

    ``refused`` is True when the articles do not hold the answer; ``text`` then says so
    and ``citations`` is empty. ``timings`` holds milliseconds per stage. ``answer_span`` is the short
    answer the text leads with (None when the reader was not sure enough to give one);
    ``confidence`` holds the reader's probabilities that the passages answer the question and that
    the lead is right, and ``refused_by`` when a refusal guard refused whatever they say.

    With a language model, ``generation`` holds the model, the token budget used, token counts,
    tokens/s, the model's own text and how its claims were verified; ``fallback`` says why the
    extractive answer was returned instead: ``"ungrounded"`` (the model's answer failed
    verification), ``"model_error"`` (the model could not be reached or failed) or
    ``"model_declined"`` (the model said the articles do not say, but they do).
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    language: str = "en"
    answer_span: str | None = None
    fallback: str | None = None
    generation: dict | None = None
    confidence: dict | None = None  # the extractive reader's probabilities (answerable, lead), refused_by

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)


def answer_json_schema() -> dict:
    """The JSON Schema (2020-12) of ``Answer.to_dict()``: what ``rag ask --json`` prints and the chat page's
    ``/ask`` endpoint returns. ``rag schema`` prints it; ``docs/answer.schema.json`` is a copy.

    >>> schema = answer_json_schema()
    >>> schema["title"], sorted(schema["required"])
    ('Answer', ['question', 'text'])
    """
    from pydantic import TypeAdapter

    schema = TypeAdapter(Answer).json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
