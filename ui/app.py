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
from rag.uploads import MAX_UPLOAD_BYTES, UploadError  # noqa: E402
from ui.sources import render_sources  # noqa: E402

EXAMPLES = [
    "When does the smart port open?",
    "谅山省2023年进出口总额是多少？",
    "Who won the 2022 FIFA World Cup?",
]
MAX_MESSAGE_CHARS = 4000  # the assistant cuts to 256 tokens anyway; this keeps the chat readable


def _message_text(content) -> str:
    """Chat message content as text: Gradio 6 hands it back as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _documents_table(assistant: Assistant) -> list[list]:
    return [[d["doc_id"], d["title"], d["date"] or "", d["n_chunks"]] for d in assistant.documents()]


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app over one assistant; each browser session keeps its own chat history."""

    def respond(message: str, history: list[dict], k: int):
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
            for part in assistant.stream(message, k=int(k), history=previous):
                if isinstance(part, str):
                    history[-1]["content"] += part
                    yield history, gr.skip(), ""
                else:
                    part.notes = notes + part.notes
                    yield history, render_sources(part), ""
        except ValueError as exc:
            history[-1]["content"] = f"⚠ {exc}"
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
                k = gr.Slider(1, 20, value=assistant.k, step=1, label="Passages to retrieve (k)")
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
        message.submit(respond, [message, chatbot, k], [chatbot, sources, message], api_visibility="private")
        add_button.click(add_articles, [upload], [status, documents], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def serve(index_dir=None, *, host: str = "127.0.0.1", port: int = 7860, k: int = 5) -> None:
    """Start the page (blocking). Serves locally only unless ``host`` says otherwise; never a share link."""
    assistant = Assistant(index_dir, k=k)
    assistant.warm_up()  # the first visitor should not wait for dictionaries to load
    build_app(assistant).queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, share=False, show_error=False, quiet=False,
        max_file_size=MAX_UPLOAD_BYTES,
    )
