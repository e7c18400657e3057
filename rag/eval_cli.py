"""What ``rag eval`` does around ``rag.evaluation.evaluate``: settings to compare, the table, the files."""

from __future__ import annotations

import json
from pathlib import Path

from rag.evaluation import evaluate, load_testset, write_corpus

TABLE_METRICS = ["recall@1", "recall@5", "mrr@10", "exact_match", "f1", "answer_contains_gold",
                 "citation_precision", "quote_validity", "refusal_precision", "refusal_recall", "fallback_rate"]


def setting_label(report) -> str:
    s = report.settings
    return f"k={s['k']} {s['embedder']} {s.get('answerer', 'extractive')}"


def run_evaluations(testset_path, *, index=None, corpus=None, ks=(5,), embedders=("e5-small",), llms=(None,),
                    scratch: Path, progress: bool = False):
    """One report per (embedder, k, answerer). Builds temporary indexes for ``corpus`` or a SQuAD set's
    paragraphs. ``llms`` holds ``Assistant(llm=...)`` values: None (the environment's choice),
    ``"extractive"`` or an ``LLMConfig``."""
    from rag import Assistant

    testset = load_testset(testset_path)
    warnings: list[str] = []
    if index is None and corpus is None and testset.corpus is None:
        index_dirs = {None: None}  # the default seeds index
    elif index is not None:
        index_dirs = {None: Path(index)}
    else:
        source = Path(corpus) if corpus else write_corpus(testset.corpus, scratch / "corpus")
        index_dirs = {}
        for embedder in embedders:
            target = scratch / f"index-{len(index_dirs)}"
            Assistant.build([source], target, embedder=embedder, progress=progress)
            index_dirs[embedder] = target
    reports = []
    for embedder, index_dir in index_dirs.items():
        for llm in llms:
            for k in ks:
                assistant = Assistant(index_dir, k=k, llm=llm)
                report = evaluate(testset, assistant, k=k, progress=progress)
                warnings += [w for w in report.warnings if w not in warnings]
                reports.append(report)
    return reports, warnings


def print_table(reports) -> None:
    """One row per setting and language: the headline metrics."""
    header = ["setting", "lang", "n"] + TABLE_METRICS + ["median ms", "p95 ms"]
    rows = []
    for r in reports:
        setting = setting_label(r)
        for lang, block in r.metrics.items():
            if lang == "latency_ms":
                continue
            cells = [setting, lang, str(block["questions"])]
            cells += ["–" if block.get(m) is None else f"{block[m]:.3f}" for m in TABLE_METRICS]
            cells += [f"{r.metrics['latency_ms']['median']:.1f}", f"{r.metrics['latency_ms']['p95']:.1f}"]
            rows.append(cells)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


def write_reports(reports, out_dir: Path) -> list[Path]:
    """report.json (all settings, metrics and every prediction) and report.png."""
    from rag.report_chart import write_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    data = [r.to_dict() for r in reports]
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(data[0] if len(data) == 1 else {"compare": data}, ensure_ascii=False, indent=2),
                         encoding="utf-8")
    return [json_path, write_chart(reports, out_dir / "report.png")]
