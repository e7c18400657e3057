"""The README's screenshot: the chat page answering "When does the smart port open?" over the seeds.

    python bench/screenshot.py [--index DIR] [--out docs/screenshot.png]

Starts `rag chat` on a free port on 127.0.0.1 (indexing seeds/ first), asks in Debian's Chromium through
Playwright, waits for the cited passage in the sources panel, saves the page, and stops the server it
started. The tests never write here; they take their screenshots in temporary folders.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "When does the smart port open?"
QUOTE = "该项目预计于2024年12月底建成投入使用"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=None, help="index folder (default: the one rag ask uses)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png", help="where to save it")
    args = parser.parse_args(argv)
    where = ["--index", args.index] if args.index else []
    subprocess.run([sys.executable, "-m", "rag.cli", "index", str(ROOT / "seeds"), *where, "-q"], check=True, cwd=ROOT)
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", *where, "--port", str(port)], cwd=ROOT,
                              env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"rag chat did not start (exit code {server.poll()})") from None
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url, wait_until="load")
            box = page.locator("#question textarea")
            box.fill(QUESTION)
            box.press("Enter")
            page.locator("#sources mark", has_text=QUOTE).first.wait_for(timeout=60_000)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    finally:
        server.terminate()  # the server this script started, by its PID
        server.wait(timeout=30)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
