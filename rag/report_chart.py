"""The evaluation chart: metrics per language (per setting when comparing) and a latency histogram."""

from __future__ import annotations

from pathlib import Path

CHART_METRICS = ["recall@5", "lead_em", "lead_f1", "lead_given", "lead_right", "answer_contains_gold",
                 "answerable_refused", "unanswerable_refused"]


def _label(report) -> str:
    s = report.settings
    answerer = s.get("answerer", "extractive")
    return f"k={s.get('k')} {s.get('embedder')}" + ("" if answerer == "extractive" else f" {answerer.split(' at ')[0]}")


def write_chart(reports: list, path: Path) -> Path:
    """Save a PNG: grouped bars of the main metrics, one group per (setting, language); latency below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = CHART_METRICS + (["fallback_rate"] if any(
        r.metrics["all"].get("fallback_rate") is not None for r in reports) else [])
    groups = []
    for report in reports:
        label = _label(report) if len(reports) > 1 else ""
        for lang, block in report.metrics.items():
            if lang == "latency_ms" or not block.get("answerable"):
                continue
            groups.append((f"{label} {lang}".strip(), [block.get(m) or 0.0 for m in metrics]))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8), gridspec_kw={"height_ratios": [3, 2]})
    x = np.arange(len(metrics))
    width = 0.8 / max(1, len(groups))
    for i, (label, values) in enumerate(groups):
        top.bar(x + i * width - 0.4 + width / 2, values, width, label=label)
    top.set_xticks(x, metrics, rotation=20)
    top.set_ylim(0, 1.05)
    top.set_title("Answer and retrieval metrics")
    top.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    all_latencies = [p.timings.get("total_ms", 0.0) for r in reports for p in r.predictions] or [0.0]
    low, high = max(min(all_latencies), 0.1), max(all_latencies) + 1e-9
    wide = high / low > 100  # extractive (ms) beside a language model (s): a log axis shows both
    bins = np.geomspace(low, high * 1.05, 40) if wide else np.linspace(0, high * 1.05, 30)
    if wide:
        bottom.set_xscale("log")
    for report in reports:
        latencies = [p.timings.get("total_ms", 0.0) for p in report.predictions]
        bottom.hist(latencies, bins=bins, alpha=0.6, label=_label(report))
    bottom.set_xlabel("latency per question (ms)")
    bottom.set_ylabel("questions")
    bottom.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
