"""The chat page: a Gradio Blocks app wired to ``rag.Assistant``. No retrieval logic lives here.

    rag chat [--index DIR] [--host 127.0.0.1] [--port 7860]

Programmatic use: ``gradio_client.Client(url).predict(question, k, api_name="/ask")``
returns the answer as the JSON of ``rag.Answer``.
"""

from __future__ import annotations

import html
import os
import re

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import Assistant  # noqa: E402
from rag.conversation import message_text  # noqa: E402
from rag.errors import LLMConfigError  # noqa: E402
from rag.llm import LLMConfig  # noqa: E402
from rag.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_CHARS, UploadError  # noqa: E402
from ui.sources import CITE_PREFIX, link_markers, parse_cite, render_article, render_sources  # noqa: E402

EXAMPLES = [
    "When does the smart port open?",
    "谅山省2023年进出口总额是多少？",
    "Who won the 2022 FIFA World Cup?",
]
MAX_K = 20  # passages a question may retrieve through the page and /ask
MAX_MESSAGE_CHARS = 4000  # the assistant cuts to 256 tokens anyway; this keeps the chat readable
EXTRACTIVE = "Extractive (offline, quotes the articles)"
CUSTOM = "Your own OpenAI-compatible server"
FALLBACK_BADGE = {
    "ungrounded": "⚠ The model's answer could not be verified against the articles; this is the extractive answer.",
    "model_error": "⚠ The language model failed; this is the extractive answer.",
    "model_declined": "⚠ The model said the articles do not say; this is what the extractive answerer found.",
}


def model_label(assistant: Assistant) -> str | None:
    """The page's name for the model the operator started the server with, or None when there is none."""
    answers_with = assistant.answers_with
    return None if answers_with == "extractive" else f"Language model: {answers_with}"


def answer_choices(assistant: Assistant, *, allow_custom_llm: bool) -> list[str]:
    """What a visitor may answer with: the extractive answerer, the operator's model, and (only when the
    operator allows it) a server of the visitor's own."""
    operator = model_label(assistant)
    return [EXTRACTIVE] + ([operator] if operator else []) + ([CUSTOM] if allow_custom_llm else [])


def choose_llm(assistant: Assistant, mode: str, base_url: str, model: str, api_key: str, *,
               allow_custom_llm: bool = False):
    """The ``llm`` argument for ``Assistant.ask`` from the page's settings.

    A visitor chooses among what the operator configured: ``"extractive"``, or ``None`` for the
    operator's own model. A server URL typed in the page is honoured only when the operator started
    the page with ``allow_custom_llm``, and then it gets the visitor's key or none at all, never the
    operator's. Anything else (a forged request naming another choice) is refused with ``LLMConfigError``.
    """
    if mode == EXTRACTIVE:
        return "extractive"
    if mode is not None and mode == model_label(assistant):
        return None
    if mode == CUSTOM and allow_custom_llm:
        base_url, model, api_key = (base_url or "").strip(), (model or "").strip(), (api_key or "").strip()
        if not base_url.startswith(("http://", "https://")) or not model:
            raise LLMConfigError("To answer with your own server, enter its URL (http://…/v1) and model name "
                                 "under Answer settings (any OpenAI-compatible server: llama.cpp, Ollama, vLLM).")
        # A fresh configuration: nothing of the operator's (key, limits) is carried over to the visitor's server.
        return LLMConfig("openai", model=model, base_url=base_url, api_key=api_key or None)
    raise LLMConfigError(f"{mode!r} is not one of this page's answerers: "
                         + ", ".join(answer_choices(assistant, allow_custom_llm=allow_custom_llm)) + ".")


def as_text(text: str) -> str:
    """Text for the chat bubble, HTML-escaped: the bubble renders HTML, and article text or a model's words
    must never become links, forms or images there (streamed pieces escape the same way as whole texts).

    >>> as_text('<img src="http://x/p.png"> & 1 < 2')
    '&lt;img src=&quot;http://x/p.png&quot;&gt; &amp; 1 &lt; 2'
    """
    return html.escape(text, quote=True)


def shown_text(answer) -> str:
    """The chat message for a finished answer: its text, and a warning when it is a fallback."""
    badge = FALLBACK_BADGE.get(answer.fallback or "")
    return f"{answer.text}\n\n{badge}" if badge else answer.text


def _documents_table(assistant: Assistant) -> list[list]:
    return [[d["doc_id"], d["title"], d["date"] or "", d["n_chunks"]] for d in assistant.documents()]


def build_app(assistant: Assistant, *, allow_custom_llm: bool = False, allow_remove: bool = False) -> gr.Blocks:
    """The Blocks app over one assistant; each browser session keeps its own chat history.

    ``allow_custom_llm`` lets visitors type the URL of an OpenAI-compatible server of their own
    (off by default: the server would then send requests wherever a visitor says). ``allow_remove`` lets
    them remove any article (the operator's choice, ``rag chat --allow-remove``); without it a session
    removes only what it added.
    """

    def removable_ids(mine: list[str]) -> list[str]:
        return [d["doc_id"] for d in assistant.documents()] if allow_remove else mine

    def respond(message: str, history: list[dict], k: int, mode: str, base_url: str, model: str, api_key: str,
                date_from: str = "", date_to: str = "", source: str = ""):
        message = (message or "").strip()
        if not message:
            gr.Info("Type a question about the articles first.")
            yield history, gr.skip(), ""
            return
        notes = []
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS]
            notes.append(f"Your message was cut to {MAX_MESSAGE_CHARS} characters.")
        previous = [message_text(m["content"]) for m in history if m["role"] == "user"]
        history = history + [{"role": "user", "content": as_text(message)}, {"role": "assistant", "content": ""}]
        yield history, gr.skip(), ""
        try:
            llm = choose_llm(assistant, mode, base_url, model, api_key, allow_custom_llm=allow_custom_llm)
            for part in assistant.stream(message, k=int(k), history=previous, llm=llm, date_from=date_from or None,
                                         date_to=date_to or None, source=source or None):
                if isinstance(part, str):
                    history[-1]["content"] += as_text(part)
                    yield history, gr.skip(), ""
                else:
                    part.notes = notes + part.notes
                    # the verified text replaces what streamed; its [n] open the article at the quote
                    history[-1]["content"] = link_markers(as_text(shown_text(part)), part.citations)
                    yield history, render_sources(part, turn=len(history)), ""
        except Exception as exc:  # never a traceback in the page, nor the server's paths
            history[-1]["content"] = as_text(error_bubble(exc))
            yield history, render_sources(None, turn=len(history)), ""

    def add_articles(files, mine, progress=gr.Progress(track_tqdm=True)):
        """Index the chosen files; the file box is emptied either way, so a refused file is not sent again
        with the next ones. ``mine`` (this browser session's own uploads) gains what was added."""
        def done(message, added=()):
            mine_now = list(dict.fromkeys([*mine, *added]))
            return (message, _documents_table(assistant), None, mine_now,
                    gr.update(choices=removable_ids(mine_now), value=None))

        if not files:
            return done("Choose .txt, .md or .html files first.")
        uploads = [(os.path.basename(getattr(f, "orig_name", None) or str(f)), str(f)) for f in files]
        progress(0, desc="Indexing")
        try:
            report = assistant.add_uploads(uploads, progress=True)
        except UploadError as exc:
            return done(f"Not added: {exc}")
        except Exception as exc:  # the index is unchanged; say why instead of showing a trace
            return done(f"Not added, the index is unchanged: {type(exc).__name__}: {without_paths(str(exc))}")
        names = ", ".join(report.added + report.updated) or "nothing new"
        lines = [f"Added {len(report.added)}, updated {len(report.updated)}, "
                 f"unchanged {len(report.unchanged)}: {names}."]
        lines += [f"Skipped: {without_paths(str(s))}" for s in report.skipped]
        return done("\n\n".join(lines), report.added)

    def add_by_url(text, mine, progress=gr.Progress(track_tqdm=True)):
        """Fetch the pages (or feeds) a visitor pasted, one URL per line, and index them; private and local
        addresses are refused (the server must not read its own network for a visitor)."""
        def done(message, added=()):
            mine_now = list(dict.fromkeys([*mine, *added]))
            return message, _documents_table(assistant), mine_now, gr.update(choices=removable_ids(mine_now), value=None)

        urls = [u.strip() for u in (text or "").splitlines() if u.strip()]
        if not urls:
            return done("Paste the address of a page or a feed first.")
        try:
            fetched, report = assistant.add_urls(urls, progress=True)
        except ValueError as exc:
            return done(f"Not added: {without_paths(str(exc))}")
        except Exception as exc:  # the index is unchanged; say why instead of showing a trace
            return done(f"Not added, the index is unchanged: {type(exc).__name__}: {without_paths(str(exc))}")
        lines = [f"Fetched: {fetched.summary()}."]
        lines += [f"Not fetched: {why}" for _, why in fetched.failed]
        added = report.added if report is not None else []
        if report is not None and (report.added or report.updated):
            lines.append(f"Added {len(report.added)}, updated {len(report.updated)}: "
                         f"{', '.join(report.added + report.updated)}.")
        return done("\n\n".join(lines), added)

    def remove_article(doc_id, mine):
        message, mine_now = remove_article_for(assistant, doc_id, mine, any_article=allow_remove)
        return message, _documents_table(assistant), mine_now, gr.update(choices=removable_ids(mine_now), value=None)

    def ask_api(question: str, k: int = 5, date_from: str = "", date_to: str = "", source: str = "") -> dict:
        """Answer a question; returns the Answer as JSON (text, citations, refused, passages, timings).
        ``date_from``, ``date_to`` and ``source`` limit the articles it may come from (``rag.filters``)."""
        try:
            k = int(k)
        except (TypeError, ValueError):
            raise gr.Error(f"k must be a whole number from 1 to {MAX_K}, got {k!r}") from None
        if not 1 <= k <= MAX_K:
            raise gr.Error(f"k must be from 1 to {MAX_K}, got {k}")
        try:
            return assistant.ask(question, k=k, date_from=date_from or None, date_to=date_to or None,
                                 source=source or None).to_dict()
        except ValueError as exc:  # an empty question, and the like: the caller reads why
            raise gr.Error(without_paths(str(exc))) from None

    def show_article(doc_id: str, start: int | None = None, end: int | None = None) -> str:
        document = assistant.index.documents.get(doc_id)
        return render_article({**document, "doc_id": doc_id} if document else None, start, end)

    def open_article(request: str) -> str:
        """The article a ``[n]`` link points at, whole, with the quote marked."""
        return show_article(*parse_cite(request or ""))

    def open_from_list(evt: gr.SelectData) -> str:
        """The article of the row clicked in the articles list, whole."""
        return show_article(str((evt.row_value or [""])[0]))

    with gr.Blocks(title="Article QA") as app:
        gr.Markdown("## Ask the articles\nAnswers quote the articles; click a `[n]` to read the article at that quote.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=480, render_markdown=False, sanitize_html=True,
                                     elem_id="chat")
                message = gr.Textbox(placeholder="Ask in English or Chinese…", show_label=False,
                                     elem_id="question", submit_btn=True)
                gr.Examples(EXAMPLES, inputs=message, label="Examples")
                with gr.Accordion("Answer settings", open=False, elem_id="settings"):
                    k = gr.Slider(1, MAX_K, value=assistant.k, step=1, label="Passages to retrieve (k)")
                    choices = answer_choices(assistant, allow_custom_llm=allow_custom_llm)
                    mode = gr.Radio(choices, value=model_label(assistant) or EXTRACTIVE,
                                    label="Answer with", elem_id="answer-with")
                    gr.Markdown("A model's answer is checked against the passages; if it is not supported, "
                                "the extractive answer is shown instead.")
                    # Typing a server URL is the operator's choice (rag chat --allow-custom-llm); the operator's
                    # own key is never sent there.
                    base_url = gr.Textbox(label="Your server's URL (OpenAI-compatible)", visible=allow_custom_llm,
                                          placeholder="http://127.0.0.1:8080/v1", elem_id="llm-url")
                    model = gr.Textbox(label="Model name", placeholder="e.g. qwen2.5:7b", visible=allow_custom_llm,
                                       elem_id="llm-model")
                    api_key = gr.Textbox(value="", type="password", label="Your API key for it (optional)",
                                         visible=allow_custom_llm, elem_id="llm-key")
                    gr.Markdown("Answer only from articles dated within (YYYY-MM-DD, YYYY-MM or YYYY; undated "
                                "articles are then left out) and indexed from these folders (seeds, uploads…):")
                    with gr.Row():
                        date_from = gr.Textbox(label="From", placeholder="2024-01", elem_id="filter-from")
                        date_to = gr.Textbox(label="To", placeholder="2024-12-31", elem_id="filter-to")
                        source = gr.Textbox(label="Source", placeholder="seeds", elem_id="filter-source")
            with gr.Column(scale=2):
                sources = gr.HTML(render_sources(None), label="Sources", elem_id="sources")
                article = gr.HTML("", label="Article", elem_id="article-viewer")
                # pressed by the page's script when a [n] link is clicked, with the link's target; never shown
                article_request = gr.Textbox(show_label=False, container=False, elem_id="article-request",
                                             elem_classes=["rag-hidden"])
                article_button = gr.Button("Open the article", elem_id="article-open", elem_classes=["rag-hidden"])
                gr.HTML("<style>.rag-hidden {display: none !important}</style>")
        with gr.Accordion("Articles", open=False):
            upload = gr.File(file_count="multiple", file_types=[".txt", ".md", ".html", ".pdf", ".docx"],
                             label=f"Add articles (.txt, .md, .html, .pdf, .docx; up to {MAX_UPLOAD_BYTES // 2**20} MB and "
                                   f"{MAX_UPLOAD_CHARS:,} characters of text each)",
                             elem_id="upload")
            add_button = gr.Button("Add to the index", elem_id="add")
            with gr.Row():
                url_box = gr.Textbox(label="Or add by URL (a page or an RSS/Atom feed; one per line)", lines=1,
                                     placeholder="https://example.com/news/article.html", elem_id="url-box")
                url_button = gr.Button("Fetch and add", elem_id="add-url")
            mine = gr.State([])  # ids this browser session uploaded: the only ones it may remove
            with gr.Row():
                removable = gr.Dropdown(removable_ids([]), value=None, elem_id="remove-choice",
                                        label="Remove an article" if allow_remove else "Remove an article you added")
                remove_button = gr.Button("Remove", elem_id="remove")
            status = gr.Markdown(elem_id="upload-status")
            documents = gr.Dataframe(_documents_table(assistant), headers=["document", "title", "date", "chunks"],
                                     interactive=False, elem_id="documents")
        message.submit(respond, [message, chatbot, k, mode, base_url, model, api_key, date_from, date_to, source],
                       [chatbot, sources, message],
                       api_visibility="private")
        add_button.click(add_articles, [upload, mine], [status, documents, upload, mine, removable],
                         api_visibility="private")
        url_button.click(add_by_url, [url_box, mine], [status, documents, mine, removable], api_visibility="private")
        remove_button.click(remove_article, [removable, mine], [status, documents, mine, removable],
                            api_visibility="private")
        article_button.click(open_article, article_request, article, js="(request) => window.__ragRequest || request",
                             api_visibility="private").then(None, None, None, js=SCROLL_TO_QUOTE)
        documents.select(open_from_list, None, article, api_visibility="private")
        app.load(None, None, None, js=OPEN_CITES_IN_PAGE)
        # each visit reads the index as it is now: another visitor's upload shows after a reload
        app.load(lambda: _documents_table(assistant), None, documents, api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


# A click on a [n] link (chat or sources) presses the hidden button, whose event sends the link's target.
OPEN_CITES_IN_PAGE = """
() => {
  if (window.__ragCites) return;
  window.__ragCites = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="PREFIX"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    window.__ragRequest = link.getAttribute("href").slice(PREFIX.length);
    document.querySelector("#article-open").click();
  }, true);
}
""".replace("PREFIX.length", str(len(CITE_PREFIX))).replace("PREFIX", CITE_PREFIX)
SCROLL_TO_QUOTE = """
() => {
  const viewer = document.querySelector("#article-viewer");
  if (viewer) viewer.scrollIntoView({block: "nearest"});
  const mark = document.querySelector("#article-viewer #rag-quote");
  if (mark) mark.scrollIntoView({block: "center"});
}
"""


def remove_article_for(assistant: Assistant, doc_id: str | None, mine: list[str], *,
                       any_article: bool = False) -> tuple[str, list[str]]:
    """Remove an article this browser session added (``mine``); a visitor never removes anyone else's
    unless the operator allows removing any article (``any_article``). Returns the message for the page
    and what the session added that is still there."""
    if not doc_id:
        return "Choose an article first.", mine
    if doc_id not in mine and not any_article:  # the server's check: a forged request gets no further
        return "Only articles added in this browser session can be removed here.", mine
    left = [d for d in mine if d != doc_id]
    try:
        assistant.remove([doc_id])
    except ValueError as exc:  # already gone
        return f"Not removed: {without_paths(str(exc))}", left
    return f"Removed {doc_id}.", left


def error_bubble(exc: Exception) -> str:
    """What the chat shows when answering failed: the reason, without a traceback or the server's paths.

    >>> error_bubble(ValueError("Empty question"))
    '⚠ Empty question'
    >>> error_bubble(FileNotFoundError(2, "No such file or directory", "/srv/rag/index/vectors.faiss"))
    "⚠ Something went wrong: FileNotFoundError: [Errno 2] No such file or directory: 'vectors.faiss'"
    """
    if isinstance(exc, ValueError):  # includes LLMConfigError: the message is meant for the visitor
        return f"⚠ {without_paths(str(exc))}"
    return f"⚠ Something went wrong: {type(exc).__name__}: {without_paths(str(exc))}"


def without_paths(message: str) -> str:
    """A message for a visitor: the server's paths reduced to file names.

    >>> without_paths("skipped /srv/rag/index/uploads/broken.txt: binary data (NUL bytes)")
    'skipped broken.txt: binary data (NUL bytes)'
    """
    return re.sub(r"(?:[A-Za-z]:)?(?:[/\\][^/\\\s:]+)+[/\\]([^/\\\s:]+)", r"\1", message)


PAGE_USER = "rag"


def check_exposure(host: str, page_key: str | None) -> None:
    """Refuse to listen beyond loopback without a page key (``ValueError`` says how to set one)."""
    from rag.exposure import check_exposure as check

    check(host, page_key, key_variable="RAG_PAGE_KEY", how=f"visitors then sign in as '{PAGE_USER}' with that key")


def serve(index_dir=None, *, host: str = "127.0.0.1", port: int = 7860, k: int = 5, llm=None,
          allow_custom_llm: bool = False, allow_remove: bool = False, page_key: str | None = None) -> None:
    """Start the page (blocking). Serves locally only unless ``host`` says otherwise; never a share link.

    ``llm`` is the model answers default to (see ``rag.Assistant``); visitors can switch to the
    extractive answerer under "Answer settings", and to a server of their own only with ``allow_custom_llm``.
    ``allow_remove`` lets visitors remove any article from the Articles list, not only their own uploads.
    ``page_key`` asks every visitor (and ``gradio_client``, ``auth=("rag", key)``) for that key; listening
    on anything but loopback requires one.
    """
    check_exposure(host, page_key)
    assistant = Assistant(index_dir, k=k, llm=llm)
    assistant.warm_up()  # the first visitor should not wait for dictionaries to load (extractive: no model call)
    build_app(assistant, allow_custom_llm=allow_custom_llm, allow_remove=allow_remove).queue(default_concurrency_limit=8).launch(
        server_name=host, server_port=port, share=False, show_error=False, quiet=False,
        max_file_size=MAX_UPLOAD_BYTES, auth=(PAGE_USER, page_key) if page_key else None,
    )
