"""The chat page: a Gradio Blocks app wired to ``rag.Assistant``. No retrieval logic lives here.

    rag chat [--index DIR] [--host 127.0.0.1] [--port 7860]

Programmatic use: ``gradio_client.Client(url).predict(question, k, api_name="/ask")``
returns the answer as the JSON of ``rag.Answer``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import Assistant  # noqa: E402
from rag.errors import LLMConfigError  # noqa: E402
from rag.llm import LLMConfig  # noqa: E402
from rag.uploads import MAX_UPLOAD_BYTES, UploadError  # noqa: E402
from ui.sources import render_sources  # noqa: E402

EXAMPLES = [
    "When does the smart port open?",
    "谅山省2023年进出口总额是多少？",
    "Who won the 2022 FIFA World Cup?",
]
MAX_MESSAGE_CHARS = 4000  # the assistant cuts to 256 tokens anyway; this keeps the chat readable
EXTRACTIVE = "Extractive (offline, quotes the articles)"
MODEL = "Language model"
FALLBACK_BADGE = {
    "ungrounded": "⚠ The model's answer could not be verified against the articles; this is the extractive answer.",
    "model_error": "⚠ The language model failed; this is the extractive answer.",
    "model_declined": "⚠ The model said the articles do not say; this is what the extractive answerer found.",
}


def _message_text(content) -> str:
    """Chat message content as text: Gradio 6 hands it back as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def choose_llm(assistant: Assistant, mode: str, base_url: str, model: str, api_key: str):
    """The ``llm`` argument for ``Assistant.ask`` from the page's settings.

    ``None`` keeps the model the server was started with; an edited URL or model name makes an
    OpenAI-compatible configuration for this question. Raises ``LLMConfigError`` when incomplete.
    """
    if mode != MODEL:
        return "extractive"
    base_url, model, api_key = (base_url or "").strip(), (model or "").strip(), (api_key or "").strip()
    current = assistant.llm[0] if assistant.llm else None
    if current is not None and not api_key and (current.backend != "openai" or (
            base_url == (current.base_url or "") and model == (current.model or ""))):
        return None
    if not base_url or not model:
        raise LLMConfigError("To answer with a language model, enter its server URL and model name under Answer settings "
                             "(any OpenAI-compatible server: llama.cpp, Ollama, vLLM, LM Studio).")
    key = api_key or (current.api_key if current is not None and current.backend == "openai" else None)
    settings = current if current is not None and current.backend == "openai" else LLMConfig("openai", model=model)
    return settings.with_overrides(model=model, base_url=base_url, api_key=key)


def shown_text(answer) -> str:
    """The chat message for a finished answer: its text, and a warning when it is a fallback."""
    badge = FALLBACK_BADGE.get(answer.fallback or "")
    return f"{answer.text}\n\n{badge}" if badge else answer.text


def _documents_table(assistant: Assistant) -> list[list]:
    return [[d["doc_id"], d["title"], d["date"] or "", d["n_chunks"]] for d in assistant.documents()]


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app over one assistant; each browser session keeps its own chat history."""

    def respond(message: str, history: list[dict], k: int, mode: str, base_url: str, model: str, api_key: str):
        message = (message or "").strip()
        if not message:
            gr.Info("Type a question about the articles first.")
            yield history, gr.skip(), ""
            return
        notes = []
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS]
            notes.append(f"Your message was cut to {MAX_MESSAGE_CHARS} characters.")
        previous = [_message_text(m["content"]) for m in history if m["role"] == "user"]
        history = history + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield history, gr.skip(), ""
        try:
            llm = choose_llm(assistant, mode, base_url, model, api_key)
            for part in assistant.stream(message, k=int(k), history=previous, llm=llm):
                if isinstance(part, str):
                    history[-1]["content"] += part
                    yield history, gr.skip(), ""
                else:
                    part.notes = notes + part.notes
                    history[-1]["content"] = shown_text(part)  # verified text replaces what streamed
                    yield history, render_sources(part), ""
        except ValueError as exc:  # includes LLMConfigError
            history[-1]["content"] = f"⚠ {exc}"
            yield history, gr.skip(), ""
        except Exception as exc:  # never a traceback in the page
            history[-1]["content"] = f"⚠ Something went wrong: {type(exc).__name__}: {exc}"
            yield history, gr.skip(), ""

    def add_articles(files, progress=gr.Progress(track_tqdm=True)):
        if not files:
            return "Choose .txt, .md or .html files first.", _documents_table(assistant)
        uploads = [(os.path.basename(getattr(f, "orig_name", None) or str(f)), str(f)) for f in files]
        progress(0, desc="Indexing")
        try:
            report = assistant.add_uploads(uploads, progress=True)
        except UploadError as exc:
            return f"Not added: {exc}", _documents_table(assistant)
        except Exception as exc:  # the index is unchanged; say why instead of showing a trace
            return f"Not added, the index is unchanged: {type(exc).__name__}: {exc}", _documents_table(assistant)
        names = ", ".join(report.added + report.updated) or "nothing new"
        lines = [f"Added {len(report.added)}, updated {len(report.updated)}, "
                 f"unchanged {len(report.unchanged)}: {names}."]
        lines += [f"Skipped: {s}" for s in report.skipped]
        return "\n\n".join(lines), _documents_table(assistant)

    def ask_api(question: str, k: int = 5) -> dict:
        """Answer a question; returns the Answer as JSON (text, citations, refused, passages, timings)."""
        return assistant.ask(question, k=int(k)).to_dict()

    with gr.Blocks(title="Article QA") as app:
        gr.Markdown("## Ask the articles\nAnswers quote the articles; each `[n]` points to a passage on the right.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=480, render_markdown=False, sanitize_html=True,
                                     elem_id="chat")
                message = gr.Textbox(placeholder="Ask in English or Chinese…", show_label=False,
                                     elem_id="question", submit_btn=True)
                gr.Examples(EXAMPLES, inputs=message, label="Examples")
                with gr.Accordion("Answer settings", open=False, elem_id="settings"):
                    k = gr.Slider(1, 20, value=assistant.k, step=1, label="Passages to retrieve (k)")
                    current = assistant.llm[0] if assistant.llm else None
                    mode = gr.Radio([EXTRACTIVE, MODEL], value=MODEL if current else EXTRACTIVE,
                                    label="Answer with", elem_id="answer-with")
                    gr.Markdown("A model's answer is checked against the passages; if it is not supported, "
                                "the extractive answer is shown instead."
                                + (f" Server's model: **{current.describe()}**." if current else ""))
                    is_openai = current is not None and current.backend == "openai"
                    base_url = gr.Textbox(value=(current.base_url or "") if is_openai else "",
                                          label="OpenAI-compatible server URL",
                                          placeholder="http://127.0.0.1:8080/v1", elem_id="llm-url")
                    model = gr.Textbox(value=(current.model or "") if is_openai else "", label="Model name",
                                       placeholder="e.g. qwen2.5:7b", elem_id="llm-model")
                    api_key = gr.Textbox(value="", type="password", label="API key (blank: the server's own)",
                                         elem_id="llm-key")
            with gr.Column(scale=2):
                sources = gr.HTML(render_sources(None), label="Sources", elem_id="sources")
        with gr.Accordion("Articles", open=False):
            upload = gr.File(file_count="multiple", file_types=[".txt", ".md", ".html"],
                             label=f"Add articles (.txt, .md, .html; up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                             elem_id="upload")
            add_button = gr.Button("Add to the index", elem_id="add")
            status = gr.Markdown(elem_id="upload-status")
            documents = gr.Dataframe(_documents_table(assistant), headers=["document", "title", "date", "chunks"],
                                     interactive=False, elem_id="documents")
        message.submit(respond, [message, chatbot, k, mode, base_url, model, api_key], [chatbot, sources, message],
                       api_visibility="private")
        add_button.click(add_articles, [upload], [status, documents], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def serve(index_dir=None, *, host: str = "127.0.0.1", port: int = 7860, k: int = 5, llm=None) -> None:
    """Start the page (blocking). Serves locally only unless ``host`` says otherwise; never a share link.

    ``llm`` is the model answers default to (see ``rag.Assistant``); visitors can switch to the
    extractive answerer or another OpenAI-compatible server under "Answer settings".
    """
    assistant = Assistant(index_dir, k=k, llm=llm)
    assistant.warm_up()  # the first visitor should not wait for dictionaries to load (extractive: no model call)
    build_app(assistant).queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, share=False, show_error=False, quiet=False,
        max_file_size=MAX_UPLOAD_BYTES,
    )
