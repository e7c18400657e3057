"""A fake OpenAI-compatible chat server on 127.0.0.1 that records every request it receives.

It stands in for a language-model server (an outside component) in tests that check what our
side sends (headers, keys, where) and how our side shows what comes back. It streams a scripted
reply as server-sent events the way OpenAI's API does.
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field


@dataclass
class Recorded:
    path: str
    headers: dict
    body: dict


@dataclass
class FakeOpenAIServer:
    reply: str = "The smart port opens at the end of December 2024 [1]."
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def start(self) -> "FakeOpenAIServer":
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                owner.requests.append(Recorded(self.path, dict(self.headers), {}))
                self._json({"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                owner.requests.append(Recorded(self.path, dict(self.headers), body))
                if not body.get("stream"):
                    self._json({"id": "x", "object": "chat.completion", "model": "fake",
                                "choices": [{"index": 0, "finish_reason": "stop",
                                             "message": {"role": "assistant", "content": owner.reply}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(owner.reply), 7):
                    chunk = {"id": "x", "object": "chat.completion.chunk", "model": "fake",
                             "choices": [{"index": 0, "delta": {"content": owner.reply[i: i + 7]}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                done = {"id": "x", "object": "chat.completion.chunk", "model": "fake",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

            def _json(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]
