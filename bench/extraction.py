"""Main-text extraction from web pages: trafilatura (``rag.ingest.web_page_text``, what `rag index` uses for
.html) against reading the whole page (``rag.ingest.html_to_text``, the cleaner before it), scored the way
trafilatura's own evaluation scores pages.

    python bench/extraction.py                          # the project's pages (tests/data/pages)
    python bench/extraction.py --pages DIR              # any folder with pages and a snippets.json

Each page comes with snippets its main text must keep and snippets of boilerplate it must leave out
(``snippets.json``). A kept snippet found is a true positive, one missing a false negative; a boilerplate
snippet found is a false positive. Precision, recall and F1 are pooled over every page's snippets. The
main text is the article's ``main`` section (related links are searchable, but not article text). A date
is right when it equals the page's publication date. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402

TITLE = "Main text of web pages (issue 13)"


def squeeze(text: str) -> str:
    return "".join(text.split())


def main_text(html: str, how: str) -> tuple[str, str | None]:
    from rag.cleaning import clean_article
    from rag.ingest import html_to_text, web_page_text

    text, title, date = web_page_text(html)[:3] if how == "trafilatura" else html_to_text(html)
    cleaned = clean_article(text, title=title, date=date)
    main = " ".join(s.text for s in cleaned.sections if s.name == "main")
    return main, cleaned.date


def score(pages: Path) -> dict:
    from rag.ingest import decode_bytes

    truth = json.loads((pages / "snippets.json").read_text(encoding="utf-8"))
    out = {}
    for how in ("trafilatura", "whole page"):
        tp = fn = fp = tn = dates = 0
        seconds = 0.0
        for name, expected in truth.items():
            if name.startswith("_"):
                continue
            html = decode_bytes((pages / name).read_bytes())
            started = time.perf_counter()
            text, date = main_text(html, how)
            seconds += time.perf_counter() - started
            kept = squeeze(text)
            found = [squeeze(s) in kept for s in expected["keep"]]
            leaked = [squeeze(s) in kept for s in expected["drop"]]
            tp, fn = tp + sum(found), fn + len(found) - sum(found)
            fp, tn = fp + sum(leaked), tn + len(leaked) - sum(leaked)
            dates += date == expected.get("date")
        n = sum(1 for k in truth if not k.startswith("_"))
        precision = tp / max(1, tp + fp)
        recall = tp / max(1, tp + fn)
        out[how] = {"pages": n, "precision": precision, "recall": recall,
                    "f1": 2 * precision * recall / max(1e-9, precision + recall), "dates_right": dates / max(1, n),
                    "ms_per_page": 1000 * seconds / max(1, n), "tp": tp, "fn": fn, "fp": fp, "tn": tn}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, default=ROOT / "tests" / "data" / "pages")
    args = parser.parse_args()
    figures = score(args.pages)
    rows = "\n".join(f"| {how} | {f['pages']} | {f['precision']:.3f} | {f['recall']:.3f} | **{f['f1']:.3f}** | "
                     f"{f['dates_right']:.0%} | {f['ms_per_page']:.0f} |" for how, f in figures.items())
    where = args.pages.relative_to(ROOT) if args.pages.is_relative_to(ROOT) else args.pages
    body = f"""Written by `python bench/extraction.py --pages {where}` on {time.strftime('%Y-%m-%d')}
({platform.machine()}, Python {platform.python_version()}). Snippets kept and boilerplate left out, scored as
trafilatura's evaluation scores them, pooled over the pages' snippets; the main text is the article's `main`
section.

| reader | pages | precision | recall | F1 | dates right | ms per page |
|---|---:|---:|---:|---:|---:|---:|
{rows}

The pages are the project's own (tests/data/pages: a Chinese news page with navigation, cookie banner, share
bars, related news, a sidebar and a date in a meta tag; an English one with JSON-LD, comments and two asides;
a Chinese portal page whose date is only in the text). trafilatura's own evaluation set of ~840 pages
(its repository's tests/eval) is not shipped in its PyPI package and cannot be fetched here, so the issue's
figure on it is not reproduced.
"""
    replace_section(TITLE, body)
    print(body)


if __name__ == "__main__":
    main()
