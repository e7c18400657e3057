"""Answers written by a language model, streamed, then checked against the passages.

``LLMAnswerer.stream`` fits the prompt into the model's window (``rag.prompting``),
streams the model's text as it comes, and at the end verifies every claim and marker
(``rag.grounding``). What it yields last is the ``Answer``:

- grounded: the model's text with markers renumbered ``[1]…[m]`` and citations with
  verbatim quotes, like an extractive answer;
- ungrounded (no valid citation, an unsupported claim): the extractive answer, with
  ``fallback="ungrounded"`` and a note saying why;
- the model failed (server down, timeout, 401, 429, malformed stream): the extractive answer
  with ``fallback="model_error"`` and the error in ``notes``.

``Answer.generation`` records the model, the token budget, token counts, tokens/s, the model's
own text and the verification details.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from rag.errors import LLMError
from rag.grounding import GroundingChecker
from rag.llm import LLMConfig, describe_failure, make_chat_model
from rag.prompting import REFUSAL, build_prompt
from rag.retrieve import RetrievalResult
from rag.schema import Answer
from rag.tokens import count_tokens

UNGROUNDED_NOTE = ("The language model's answer could not be verified against the articles ({reason}); "
                   "this is the extractive answer instead.")
ERROR_NOTE = "{message} This is the extractive answer instead."
CUT_NOTE = "The model went on past its budget of {tokens} tokens; its answer was cut there."
# A server may ignore max_tokens: reading stops at the budget, counted in tokens and (for pieces a
# tokenizer reads oddly) in characters.
MAX_CHARS_PER_TOKEN = 8


class LLMAnswerer:
    """Answer with a language model over retrieved passages.

    >>> answerer = LLMAnswerer(LLMConfig("openai", model="m", base_url="http://127.0.0.1:8080/v1"),
    ...                        index, embedder)                                       # doctest: +SKIP
    >>> for part in answerer.stream(question, retrieval, fallback=extractive):         # doctest: +SKIP
    ...     print(part)

    ``chat_model`` may be any LangChain chat model (it then replaces the one ``config`` describes).
    """

    def __init__(self, config: LLMConfig, index, embedder, *, chat_model=None):
        self.config = config
        self.chat_model = chat_model if chat_model is not None else make_chat_model(config)
        self.checker = GroundingChecker(index, embedder)

    def stream(self, question: str, retrieval: RetrievalResult, *, history: list[str] | None = None,
               fallback: Callable[[], Answer]) -> Iterator[str | Answer]:
        """Yield the model's text in pieces, then the verified ``Answer`` (or the marked fallback)."""
        language = retrieval.language
        t0 = time.perf_counter()
        prompt = build_prompt(question, retrieval.passages, language=language,
                              context_window=self.config.window,
                              max_answer_tokens=self.config.max_answer_tokens, history=history)
        generation = {"backend": self.config.backend, "model": self.config.name, **prompt.usage()}
        timings = {"prompt_ms": _ms(t0)}
        if not prompt.passages:
            answer = fallback()
            answer.notes = prompt.notes + answer.notes
            answer.generation = generation
            yield answer
            return

        parts: list[str] = []
        usage = {}
        first_token_at = None
        t1 = time.perf_counter()
        budget = self.config.max_answer_tokens
        tokens = chars = 0
        stream = self.chat_model.stream(prompt.messages)
        try:
            for chunk in stream:
                text = _chunk_text(chunk)
                if getattr(chunk, "usage_metadata", None):
                    usage = dict(chunk.usage_metadata)
                if text:
                    if first_token_at is None:
                        first_token_at = time.perf_counter()
                    tokens += count_tokens(text)
                    chars += len(text)
                    if tokens > budget or chars > MAX_CHARS_PER_TOKEN * budget:
                        generation["cut_at_tokens"] = budget
                        prompt.notes.append(CUT_NOTE.format(tokens=budget))
                        break
                    parts.append(text)
                    yield text
        except Exception as exc:  # noqa: BLE001 - every failure of the model becomes a fallback, never a trace
            error = describe_failure(exc, self.config)
            timings["generate_ms"] = _ms(t1)
            generation.update(error=error.kind, error_message=str(error), raw_text="".join(parts))
            yield self._fallback(fallback, "model_error", ERROR_NOTE.format(message=error), generation, timings,
                                 prompt.notes)
            return
        finally:
            stream.close()  # stop reading from the server
        t2 = time.perf_counter()
        raw = "".join(parts)
        completion_tokens = usage.get("output_tokens") or count_tokens(raw)
        generation.update(
            raw_text=raw,
            completion_tokens=completion_tokens,
            prompt_tokens_reported=usage.get("input_tokens"),
            tokens_per_s=round(completion_tokens / max(t2 - (first_token_at or t1), 1e-6), 1) if raw else 0.0,
        )
        timings["first_token_ms"] = round(((first_token_at or t2) - t1) * 1000, 2)
        timings["generate_ms"] = _ms(t1)

        t3 = time.perf_counter()
        verdict = self.checker.check(raw, prompt.passages, question)
        timings["verify_ms"] = _ms(t3)
        generation["verification"] = verdict.to_dict()
        if not verdict.grounded:
            reason = verdict.reasons[0] if verdict.reasons else "no valid citation"
            yield self._fallback(fallback, "ungrounded", UNGROUNDED_NOTE.format(reason=reason), generation,
                                 timings, prompt.notes)
            return
        if verdict.refusal:
            extractive = fallback()
            if not extractive.refused:
                # The model missed an answer the passages hold: the extractive one is more useful.
                yield self._fallback(lambda: extractive, "model_declined",
                                     "The language model said the articles do not say; the extractive answerer "
                                     "found this in them.", generation, timings, prompt.notes)
                return
            text = verdict.text or REFUSAL[language]
            yield Answer(question=question, text=text, refused=True, passages=retrieval.passages,
                         language=language, notes=list(prompt.notes), generation=generation, timings=timings)
            return
        yield Answer(question=question, text=verdict.text, citations=verdict.citations, refused=False,
                     passages=retrieval.passages, language=language, notes=list(prompt.notes),
                     generation=generation, timings=timings)

    @staticmethod
    def _fallback(fallback: Callable[[], Answer], kind: str, note: str, generation: dict, timings: dict,
                  prompt_notes: list[str]) -> Answer:
        answer = fallback()
        answer.fallback = kind
        answer.notes = [note] + list(prompt_notes) + answer.notes
        answer.generation = generation
        answer.timings = {**timings, **answer.timings}
        return answer


def _chunk_text(chunk) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    raise LLMError("malformed", f"The language model sent a chunk that is not text: {type(content).__name__}")


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
