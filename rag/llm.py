"""Language models the assistant can answer with, as LangChain chat models.

Two backends:

- ``openai``: any OpenAI-compatible server — vLLM, Ollama, llama.cpp's server, LM Studio or a
  hosted API — through ``langchain-openai``'s ``ChatOpenAI`` (built by LangChain's ``init_chat_model``).
- ``llamacpp``: a local ``.gguf`` file run in this process through ``llama-cpp-python``
  (optional extra: ``pip install 'rag-news-qa[llamacpp]'``) and ``langchain-community``'s ``ChatLlamaCpp``.

>>> config = LLMConfig(backend="openai", base_url="http://127.0.0.1:8080/v1", model="qwen2.5")
>>> config.describe()
'openai model qwen2.5 at http://127.0.0.1:8080/v1'

``LLMConfig.from_env()`` reads ``RAG_LLM``, ``RAG_LLM_MODEL``, ``OPENAI_BASE_URL``,
``OPENAI_API_KEY``, ``RAG_LLM_MODEL_PATH``, ``RAG_LLM_CONTEXT`` and ``RAG_LLM_MAX_TOKENS``;
with ``RAG_LLM`` unset (or ``extractive``) there is no model and answers stay extractive.

Retries: the OpenAI client retries refused connections, timeouts, 408/409/429 and 5xx
answers itself, with exponential backoff (``max_retries`` times); a 401 or 400 is not retried.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import LLMConfigError, LLMError

BACKENDS = ("openai", "llamacpp")
CHAT_MODEL = "langchain"  # a chat model object handed to the Assistant; not chosen by name
NO_MODEL = ("", "none", "extractive", "off")
# Context windows when the user gives none: most served models take at least 8k tokens;
# a GGUF file is loaded with 4k to keep memory modest on a laptop.
DEFAULT_CONTEXT_WINDOW = {"openai": 8192, "llamacpp": 4096, CHAT_MODEL: 4096}
DEFAULT_MAX_ANSWER_TOKENS = 512
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class LLMConfig:
    """Which language model to answer with, and its limits.

    ``context_window`` is the model's window in tokens (prompt + answer); the prompt is fitted
    into ``context_window - max_answer_tokens`` (see ``rag.prompting``).
    """

    backend: str
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model_path: str | None = None
    context_window: int | None = None
    max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS
    temperature: float = 0.0
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES

    def __post_init__(self):
        if self.backend not in BACKENDS + (CHAT_MODEL,):
            raise LLMConfigError(f"Unknown language-model backend {self.backend!r}; use one of: {', '.join(BACKENDS)}.")
        if self.backend == "openai" and not self.model:
            raise LLMConfigError("The openai backend needs a model name: --model NAME or RAG_LLM_MODEL=NAME "
                                 "(for a llama.cpp server any name works).")
        if self.backend == "llamacpp":
            if not self.model_path:
                raise LLMConfigError("The llamacpp backend needs a GGUF file: --model-path FILE.gguf "
                                     "or RAG_LLM_MODEL_PATH=FILE.gguf.")
            if not Path(self.model_path).is_file():
                raise LLMConfigError(f"No GGUF file at {self.model_path}.")
        if self.context_window is not None and self.context_window < 512:
            raise LLMConfigError(f"context_window must be at least 512 tokens, got {self.context_window}.")
        if self.max_answer_tokens < 16:
            raise LLMConfigError(f"max_answer_tokens must be at least 16, got {self.max_answer_tokens}.")
        if self.context_window is not None and self.max_answer_tokens >= self.context_window // 2:
            raise LLMConfigError(f"max_answer_tokens ({self.max_answer_tokens}) must be under half the "
                                 f"context window ({self.context_window}) to leave room for the passages.")

    @property
    def window(self) -> int:
        return self.context_window or DEFAULT_CONTEXT_WINDOW[self.backend]

    @property
    def name(self) -> str:
        return self.model or Path(self.model_path or "").name

    def describe(self) -> str:
        if self.backend == CHAT_MODEL:
            return f"chat model {self.model}"
        if self.backend == "openai":
            return f"openai model {self.model} at {self.base_url or 'api.openai.com'}"
        return f"llamacpp model {Path(self.model_path).name}"

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "LLMConfig | None":
        """The configuration the environment asks for, with ``overrides`` (``None`` values ignored) on top.

        Returns ``None`` when no backend is chosen: the assistant then answers extractively.
        """
        env = os.environ if environ is None else environ
        given = {k: v for k, v in overrides.items() if v is not None}
        backend = given.pop("backend", None) or env.get("RAG_LLM", "")
        if backend.strip().lower() in NO_MODEL:
            return None
        values = {
            "model": env.get("RAG_LLM_MODEL") or None,
            "base_url": env.get("OPENAI_BASE_URL") or None,
            "api_key": env.get("OPENAI_API_KEY") or None,
            "model_path": env.get("RAG_LLM_MODEL_PATH") or None,
            "context_window": _int_env(env, "RAG_LLM_CONTEXT"),
            "max_answer_tokens": _int_env(env, "RAG_LLM_MAX_TOKENS") or DEFAULT_MAX_ANSWER_TOKENS,
            "timeout": float(env.get("RAG_LLM_TIMEOUT") or DEFAULT_TIMEOUT_S),
        }
        values.update(given)
        return cls(backend=backend.strip().lower(), **values)

    @classmethod
    def for_chat_model(cls, chat_model, **settings) -> "LLMConfig":
        """Settings for a LangChain chat model built by the caller."""
        name = getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None) or type(chat_model).__name__
        return cls(backend=CHAT_MODEL, model=str(name), **settings)

    def with_overrides(self, **changes) -> "LLMConfig":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _int_env(env, name: str) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise LLMConfigError(f"{name} must be a whole number of tokens, got {raw!r}.") from None


# ---- chat models ---------------------------------------------------------------------------------
_local_models: dict[LLMConfig, object] = {}
_local_lock = threading.Lock()


def make_chat_model(config: LLMConfig):
    """The LangChain chat model for ``config``. A GGUF file is loaded once per process and reused."""
    if config.backend == CHAT_MODEL:
        raise LLMConfigError("A 'langchain' configuration comes with its chat model; pass the model itself.")
    if config.backend == "openai":
        return _openai_chat_model(config)
    with _local_lock:
        if config not in _local_models:
            _local_models[config] = _llamacpp_chat_model(config)
        return _local_models[config]


def _openai_chat_model(config: LLMConfig):
    # LangChain's provider-neutral constructor; "openai" gives langchain-openai's ChatOpenAI
    from langchain.chat_models import init_chat_model

    return init_chat_model(
        config.model,
        model_provider="openai",
        base_url=config.base_url,
        # Local servers (llama.cpp, Ollama, vLLM) ignore the key, but the client insists on one.
        api_key=config.api_key or "not-needed",
        temperature=config.temperature,
        timeout=config.timeout,
        max_retries=config.max_retries,
        streaming=True,
        stream_usage=True,
        # ChatOpenAI's own max_tokens goes out as max_completion_tokens, which llama.cpp's server
        # ignores (a 128-token limit produced 1,756 tokens); plain max_tokens is honoured by all.
        extra_body={"max_tokens": config.max_answer_tokens},
    )


def _llamacpp_chat_model(config: LLMConfig):
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError:
        raise LLMConfigError("The llamacpp backend needs llama-cpp-python and langchain-community: "
                             "pip install 'rag-news-qa[llamacpp]'.") from None
    try:
        return ChatLlamaCpp(
            model_path=str(config.model_path),
            n_ctx=config.window,
            max_tokens=config.max_answer_tokens,
            temperature=config.temperature,
            n_threads=os.cpu_count() or 1,
            streaming=True,
            verbose=False,
        )
    except Exception as exc:  # llama.cpp raises ValueError for files it cannot load
        raise LLMConfigError(f"Could not load the GGUF file {config.model_path}: {exc}") from exc


# ---- errors --------------------------------------------------------------------------------------
def describe_failure(exc: BaseException, config: LLMConfig) -> LLMError:
    """Turn whatever the model client raised into an ``LLMError`` whose message a user can act on."""
    if isinstance(exc, LLMError):
        return exc
    where = config.describe()
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai depends on it
        openai = None
    if openai is not None:
        retried = f" after {config.max_retries} retries" if config.max_retries else ""
        if isinstance(exc, openai.APITimeoutError):
            return LLMError("timeout", f"The language model ({where}) did not answer within "
                                       f"{config.timeout:g} s{retried}.")
        if isinstance(exc, openai.APIConnectionError):
            return LLMError("connection", f"Could not connect to the language model ({where}){retried}: "
                                          f"is the server running?")
        if isinstance(exc, openai.AuthenticationError):
            return LLMError("auth", f"The language model server refused the API key (401, {where}). "
                                    f"Set OPENAI_API_KEY or --api-key.")
        if isinstance(exc, openai.RateLimitError):
            return LLMError("rate_limit", f"The language model server is rate-limiting requests "
                                          f"(429, {where}){retried}. Try again later.")
        if isinstance(exc, openai.NotFoundError):
            return LLMError("not_found", f"The server does not know model {config.model!r} (404, {where}).")
        if isinstance(exc, openai.APIStatusError):
            return LLMError("status", f"The language model server answered {exc.status_code} ({where}): "
                                      f"{_short(exc.message)}")
        if isinstance(exc, openai.APIError):
            return LLMError("malformed", f"The language model server sent a response that could not be "
                                         f"read ({where}): {_short(str(exc))}")
    if isinstance(exc, (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError)):
        return LLMError("malformed", f"The language model ({where}) sent a malformed response: "
                                     f"{type(exc).__name__}: {_short(str(exc))}")
    return LLMError("failed", f"The language model ({where}) failed: {type(exc).__name__}: {_short(str(exc))}")


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
