"""A scripted LangChain chat model for tests of the language-model path.

It stands in for the model only (an outside component); everything around it — prompt,
budget, streaming, verification, fallback — is the real code. It records the messages it
was sent and streams its scripted reply a few characters at a time, or raises mid-stream.
"""

from __future__ import annotations

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    replies: list[str] = Field(default_factory=list)
    fail_after: int | None = None  # raise after streaming this many pieces
    error: Exception | None = None
    received: list = Field(default_factory=list)
    model_name: str = "scripted"
    endless: bool = False  # a server that ignores max_tokens: the reply again and again, never stopping
    pieces_sent: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next_reply(self, messages) -> str:
        self.received.append(messages)
        return self.replies[min(len(self.received), len(self.replies)) - 1]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next_reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        reply = self._next_reply(messages)
        while True:
            for i in range(0, len(reply), 5):
                if self.fail_after is not None and i // 5 >= self.fail_after:
                    raise self.error
                self.pieces_sent += 1
                yield ChatGenerationChunk(message=AIMessageChunk(content=reply[i: i + 5]))
            if not self.endless:
                return
