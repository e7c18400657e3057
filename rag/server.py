"""``rag serve``: the assistant behind an OpenAI-compatible HTTP API, for the tools people already run (the
``openai`` client, LangChain's ``ChatOpenAI``, Open WebUI, anything that speaks ``/v1/chat/completions``).

- ``POST /v1/chat/completions``: the last user message is the question, the earlier user messages its
  history (follow-ups are read with the previous question, as in the page). Plain or ``stream: true``
  (server-sent events: ``chat.completion.chunk`` objects, then ``data: [DONE]``). The answer text carries
  its ``[n]`` markers and ends with a "Sources" list, so that clients which keep only the text (LangChain,
  chat front ends) keep the citations too; ``citations_in_text: false`` leaves that list out. The response
  (and, streaming, its last chunk) also carries ``citations``: ``n, doc_id, title, date, quote, start, end,
  page, url`` (``page`` for a PDF, ``url`` when known), and ``rag``: the whole Answer's refusal, lead and notes. Optional fields:
  ``k`` (passages), ``date_from`` / ``date_to`` / ``source`` (which documents may answer: ``rag.filters``).
- ``GET /v1/models``: the one model, ``rag-news-qa``.
- ``POST /v1/ask``: ``{"question": ..., "history": [...], "k": 5, "date_from": ..., "date_to": ..., "source": ...}``
  → the Answer's JSON (``rag schema``).
- ``GET /v1/documents``: the indexed documents.

With ``RAG_API_KEY`` set every request needs ``Authorization: Bearer <key>``; without one the server only
listens on loopback (``rag.exposure``).

>>> app = create_app(assistant)                      # doctest: +SKIP
>>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)   # doctest: +SKIP
"""

from __future__ import annotations

import hmac
import itertools
import json
import time
import uuid
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from rag.schema import Answer

MODEL_ID = "rag-news-qa"
MAX_K = 50


class RequestError(ValueError):
    """A request the API cannot answer: its message goes back as an OpenAI-style error."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.code = status, code


def error_body(message: str, code: str) -> dict:
    return {"error": {"message": message, "type": code, "code": code, "param": None}}


def message_text(content) -> str:
    """``rag.conversation.message_text``, strict: a content of any other shape is the request's error."""
    from rag.conversation import message_text as text_of

    try:
        return text_of(content, strict=True)
    except ValueError as exc:
        raise RequestError(str(exc)) from None


def question_and_history(messages) -> tuple[str, list[str]]:
    """The last user message and the user messages before it (oldest first).

    >>> question_and_history([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Exports?"},
    ...                       {"role": "assistant", "content": "…"}, {"role": "user", "content": "And imports?"}])
    ('And imports?', ['Exports?'])
    """
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list of {role, content} objects")
    users = [message_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users or not users[-1].strip():
        raise RequestError("the last user message must hold the question")
    return users[-1], [u for u in users[:-1] if u.strip()]


def citation_dicts(answer: Answer, urls: dict[str, str] | None = None) -> list[dict]:
    urls = urls or {}
    return [{"n": c.n, "doc_id": c.doc_id, "title": c.title, "date": c.date, "quote": c.quote, "start": c.start,
             "end": c.end, "page": c.page, "url": urls.get(c.doc_id)} for c in answer.citations]


def sources_text(answer: Answer) -> str:
    """The "Sources" list put after the answer text: one line per citation, with its quote.

    >>> from rag.schema import Citation
    >>> c = Citation(1, "seeds/a.txt", "越中合作", "2024-01-05", "body", "该项目预计于2024年12月底建成", "", 1.0, 0, 14, 0)
    >>> print(sources_text(Answer(question="q", text="t [1]", citations=[c])))
    <BLANKLINE>
    <BLANKLINE>
    Sources:
    [1] 越中合作 (2024-01-05), seeds/a.txt: “该项目预计于2024年12月底建成”
    """
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.title or c.doc_id}{f' ({c.date})' if c.date else ''}, {c.doc_id}"
             f"{f', p. {c.page}' if c.page else ''}: “{c.quote}”"
             for c in answer.citations]
    return "\n\nSources:\n" + "\n".join(lines)


def answer_extras(answer: Answer) -> dict:
    return {"refused": answer.refused, "answer_span": answer.answer_span, "language": answer.language,
            "fallback": answer.fallback, "notes": answer.notes, "timings": answer.timings}


def _tokens(text: str) -> int:
    from rag.tokens import count_tokens

    return count_tokens(text)


def _usage(prompt: str, completion: str) -> dict:
    p, c = _tokens(prompt), _tokens(completion)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _k_of(body: dict) -> int | None:
    k = body.get("k")
    if k is None:
        return None
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise RequestError(f"'k' must be a whole number from 1 to {MAX_K}")
    return k


def _filters_of(body: dict) -> dict:
    """The request's ``date_from``, ``date_to`` and ``source``, checked (``rag.filters``)."""
    from rag.filters import Filters

    given = {name: body.get(name) for name in ("date_from", "date_to", "source")}
    try:
        Filters.of(**given)
    except ValueError as exc:
        raise RequestError(str(exc)) from None
    return given


def create_app(assistant, *, api_key: str | None = None) -> FastAPI:
    """The API over ``assistant`` (a ``rag.Assistant``); ``api_key`` guards every route when given."""
    app = FastAPI(title="rag-news-qa", description=__doc__.split("\n\n")[0], version="1")

    @app.middleware("http")
    async def check_key(request: Request, call_next):
        if api_key is not None:
            given = request.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
                return JSONResponse(error_body("a valid API key is needed: Authorization: Bearer <RAG_API_KEY>",
                                               "invalid_api_key"), status_code=401)
        return await call_next(request)

    @app.exception_handler(RequestError)
    async def request_error(_request: Request, exc: RequestError):
        return JSONResponse(error_body(str(exc), exc.code), status_code=exc.status)

    @app.exception_handler(ValueError)
    async def value_error(_request: Request, exc: ValueError):  # the assistant's own messages (empty question…)
        return JSONResponse(error_body(str(exc), "invalid_request_error"), status_code=400)

    def read_body(raw: bytes) -> dict:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise RequestError("the request body must be JSON") from None
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        return body

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "rag-news-qa",
                                            "answers_with": assistant.answers_with}]}

    @app.get("/v1/documents")
    def documents():
        return {"object": "list", "data": assistant.documents()}

    @app.post("/v1/ask")
    async def ask(request: Request):
        body = read_body(await request.body())
        question = body.get("question")
        if not isinstance(question, str):
            raise RequestError("'question' must be a string")
        history = body.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise RequestError("'history' must be a list of earlier questions")
        k, filters = _k_of(body), _filters_of(body)
        answer = await run_in_threadpool(assistant.ask, question, k=k, history=history, **filters)
        return answer.to_dict()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        body = read_body(await request.body())
        question, history = question_and_history(body.get("messages"))
        k, filters = _k_of(body), _filters_of(body)
        with_sources = body.get("citations_in_text", True) is not False
        model = body.get("model") or MODEL_ID
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.get("stream"):
            answer = await run_in_threadpool(assistant.ask, question, k=k, history=history, **filters)
            content = answer.text + (sources_text(answer) if with_sources else "")
            return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop", "logprobs": None}],
                    "usage": _usage(question, content), "citations": citation_dicts(answer, assistant.source_urls()),
                    "rag": answer_extras(answer)}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        parts = assistant.stream(question, k=k, history=history, **filters)
        first = await run_in_threadpool(next, parts)  # a bad question fails here, before the stream starts

        def chunk(delta: dict | None, finish: str | None = None, **extra) -> str:
            choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
            data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": choices, **extra}
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        def events() -> Iterator[str]:
            streamed = []
            yield chunk({"role": "assistant", "content": ""})
            for part in itertools.chain([first], parts):
                if isinstance(part, str):
                    streamed.append(part)
                    yield chunk({"content": part})
                    continue
                answer: Answer = part
                tail = ""
                if answer.fallback and "".join(streamed).strip() != answer.text.strip():
                    # the model's streamed answer failed the check: the checked answer follows, and says so
                    note = answer.notes[-1] if answer.notes else "The model's answer could not be checked."
                    tail = f"\n\n{note}\n\n{answer.text}"
                if with_sources:
                    tail += sources_text(answer)
                if tail:
                    streamed.append(tail)
                    yield chunk({"content": tail})
                yield chunk({}, "stop", citations=citation_dicts(answer, assistant.source_urls()),
                            rag=answer_extras(answer))
                if include_usage:
                    yield chunk(None, usage=_usage(question, "".join(streamed)))
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


def serve(index_dir=None, *, host: str = "127.0.0.1", port: int = 8000, k: int = 5, llm=None,
          reader: str | None = None, api_key: str | None = None) -> None:
    """Start the API (blocking) over the index in ``index_dir`` (default: the seeds index)."""
    import uvicorn

    from rag.assistant import Assistant
    from rag.exposure import check_exposure

    check_exposure(host, api_key, key_variable="RAG_API_KEY", how="clients then send it as their API key")
    assistant = Assistant(index_dir, k=k, llm=llm, reader=reader)
    assistant.warm_up()  # the first request should not wait for dictionaries to load
    uvicorn.run(create_app(assistant, api_key=api_key), host=host, port=port, log_level="info")
