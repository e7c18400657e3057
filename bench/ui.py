"""Chat page timings in a real browser: page ready after `rag chat` starts, first streamed token after submit.

    python bench/ui.py [--index DIR] [--runs 10]

Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from report import replace_section  # noqa: E402
QUESTIONS = ["When does the smart port open?", "谅山省2023年进出口总额是多少？", "广西壮族自治区党委书记是谁？",
             "How long is Lang Son's border with China?", "谅山省人均GRDP达到多少？"]

# Records when the newest bot message first shows text (window.__firstText), after window.__submitted.
WATCH_JS = """
() => {
  const before = document.querySelectorAll('#chat .message.bot').length;
  window.__firstText = undefined;
  const obs = new MutationObserver(() => {
    const bots = document.querySelectorAll('#chat .message.bot');
    const text = bots.length > before ? bots[bots.length - 1].innerText.trim() : '';
    if (text.length > 0 && !text.includes('Loading content')) {  // Gradio's placeholder is not an answer
      window.__firstText = performance.now(); obs.disconnect();
    }
  });
  obs.observe(document.querySelector('#chat'), {childList: true, subtree: true, characterData: true});
}
"""


def first_token_ms(page, question: str) -> float:
    box = page.locator("#question textarea")
    box.fill(question)
    page.evaluate(WATCH_JS)
    page.evaluate("window.__submitted = performance.now()")
    box.press("Enter")
    page.wait_for_function("window.__firstText !== undefined", timeout=30000)
    return page.evaluate("window.__firstText - window.__submitted")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", default=None, help="index folder (default: the one rag ask uses)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    where = ["--index", args.index] if args.index else []
    subprocess.run([sys.executable, "-m", "rag.cli", "index", str(ROOT / "seeds"), *where, "-q"],
                   check=True, cwd=ROOT)
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", *where, "--port", str(port)],
                            cwd=ROOT, env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        served = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run"])
            page = browser.new_page()
            page.goto(url, wait_until="load")
            page.locator("#question textarea").wait_for()
            ready = time.perf_counter() - started
            first = []
            for i in range(args.runs):
                first.append(first_token_ms(page, QUESTIONS[i % len(QUESTIONS)]))
                time.sleep(1.5)  # let the stream finish before the next question
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    figures = (f"Measured by `python bench/ui.py` (Debian chromium via Playwright, {time.strftime('%Y-%m-%d')}).\n\n"
               "| what | target | measured |\n|---|---|---|\n"
               f"| server answering HTTP after `rag chat` starts | | {served:.2f} s |\n"
               f"| page ready (question box shown) after `rag chat` starts | ≤ 5 s | {ready:.2f} s |\n"
               f"| first streamed token after submit, extractive, seeds | ≤ 300 ms | median {statistics.median(first):.0f} ms, "
               f"max {max(first):.0f} ms (n={len(first)}) |\n")
    print(figures)
    replace_section("Chat page (issue 3)", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
