"""What ``rag eval`` does around ``rag.evaluation.evaluate``: settings to compare, the table, the files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.evaluation import evaluate, load_testset, write_corpus

# (column heading, metric) — short headings keep the table under 100 characters.
TABLE_COLUMNS = [("R@5", "recall@5"), ("MRR", "mrr@10"), ("leadEM", "lead_em"), ("leadF1", "lead_f1"),
                 ("given", "lead_given"), ("right", "lead_right"), ("contains", "answer_contains_gold"),
                 ("refA", "answerable_refused"), ("refU", "unanswerable_refused")]
LEGEND = ("R@5 recall@5, MRR mrr@10, lead = the short answer the reply opens with: leadEM exact match, "
          "leadF1 CMRC F1\n(missing lead = 0), given = lead given, right = given leads with F1 >= 0.5; contains = "
          "whole answer holds the gold;\nrefA/refU = answerable/unanswerable questions refused. "
          "Everything else (citations, quotes, fallbacks) is in report.json.")


def setting_label(report) -> str:
    s = report.settings
    return f"k={s['k']} {s['embedder']} {s.get('answerer', 'extractive')} reader={s.get('reader', 'scored')}"


def run_evaluations(testset_path, *, index=None, corpus=None, ks=(5,), embedders=("e5-small",), llms=(None,),
                    reader: str | None = None, scratch: Path, progress: bool = False):
    """One report per (embedder, k, answerer). Builds temporary indexes for ``corpus`` or a SQuAD set's
    paragraphs. ``llms`` holds ``Assistant(llm=...)`` values: None (the environment's choice),
    ``"extractive"`` or an ``LLMConfig``."""
    def say(message: str) -> None:  # what is happening before the progress bars start
        if progress:
            print(message, file=sys.stderr, flush=True)

    say(f"reading {testset_path}")
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
                say(f"loading the index {index_dir or '(the default seeds index)'} and the embedder, "
                    f"then asking {len(testset.questions)} questions")
                assistant = Assistant(index_dir, k=k, llm=llm, reader=reader)
                report = evaluate(testset, assistant, k=k, progress=progress)
                warnings += [w for w in report.warnings if w not in warnings]
                reports.append(report)
    return reports, warnings


def print_table(reports) -> None:
    """One block per setting, one row per language: the headline metrics, then a legend."""
    header = ["lang", "n"] + [h for h, _ in TABLE_COLUMNS] + ["ms"]
    for r in reports:
        print(setting_label(r))
        rows = []
        for lang, block in r.metrics.items():
            if lang == "latency_ms":
                continue
            cells = [lang, str(block["questions"])]
            cells += ["–" if block.get(m) is None else f"{block[m]:.3f}" for _, m in TABLE_COLUMNS]
            cells.append(f"{r.metrics['latency_ms']['median']:.0f}")
            rows.append(cells)
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        print()
    print(LEGEND)


def print_failures(reports, n: int) -> None:
    """The ``n`` worst answers of each setting, with the gold and what was said."""
    from rag.evaluation import worst

    for r in reports:
        bad = worst(r.predictions, n)
        print(f"\n{len(bad)} worst answers — {setting_label(r)}")
        for p in bad:
            said = "REFUSED" if p.refused else (p.answer_span or "(no lead)")
            gold = " | ".join(p.gold) if p.gold else "(unanswerable)"
            print(f"- [{p.qid}] {p.question}\n    gold: {gold}\n    lead: {said}\n    answer: {_short(p.answer)}")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_reports(reports, out_dir: Path) -> list[Path]:
    """report.json (all settings, metrics and every prediction) and report.png."""
    from rag.report_chart import write_chart

    out_dir.mkdir(parents=True, exist_ok=True)
    data = [r.to_dict() for r in reports]
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(data[0] if len(data) == 1 else {"compare": data}, ensure_ascii=False, indent=2),
                         encoding="utf-8")
    return [json_path, write_chart(reports, out_dir / "report.png")]
