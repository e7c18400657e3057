"""Fetching pages and feeds from a real HTTP server started on 127.0.0.1, serving the project's own news pages:
private addresses refused by default, feeds followed, re-runs fetch only what changed, retries, limits."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT

PAGES = ROOT / "tests" / "data" / "pages"


class NewsSite(BaseHTTPRequestHandler):
    """/border.html and /trade.html (with ETags), /feed.xml (RSS listing both), /flaky.html (503 once),
    /huge.html (over the size limit), /moved (a redirect to /border.html). Counts full responses per path."""

    served: dict = {}
    flaky_left = {"n": 1}

    def log_message(self, *args):  # quiet
        pass

    def send(self, status, body=b"", kind="text/html; charset=utf-8", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        port = self.server.server_address[1]
        pages = {"/border.html": "xinhua-style-border.html", "/trade.html": "vn-style-trade-en.html"}
        if self.path in pages:
            body = (PAGES / pages[self.path]).read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self.send(304, headers={"ETag": etag})
            NewsSite.served[self.path] = NewsSite.served.get(self.path, 0) + 1
            return self.send(200, body, headers={"ETag": etag})
        if self.path == "/feed.xml":
            items = "".join(f"<item><title>{p}</title><link>http://127.0.0.1:{port}{p}</link></item>" for p in pages)
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>边疆新闻</title>{items}</channel></rss>'
            return self.send(200, rss.encode(), "application/rss+xml")
        if self.path == "/flaky.html":
            if NewsSite.flaky_left["n"] > 0:
                NewsSite.flaky_left["n"] -= 1
                return self.send(503, b"busy", headers={"Retry-After": "0"})
            return self.send(200, (PAGES / "cn-portal-date-in-text.html").read_bytes())
        if self.path == "/huge.html":
            return self.send(200, b"<p>" + b"x" * (6 * 2**20) + b"</p>")
        if self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/border.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send(404, b"not here")


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NewsSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_local_address_is_refused_unless_allowed(site, tmp_path):
    from rag.fetch import Fetcher

    report = Fetcher(tmp_path).fetch([f"{site}/border.html"])
    assert report.saved == [] and "private or local address" in report.failed[0][1]
    assert "--allow-private" in report.failed[0][1]


def test_a_feed_brings_its_items_and_a_rerun_fetches_only_what_changed(site, tmp_path, embedder):
    from rag import Assistant
    from rag.index import update_index

    index_dir = tmp_path / "index"
    update_index([ROOT / "seeds"], index_dir, embedder)
    assistant = Assistant(index_dir, embedder=embedder)
    NewsSite.served.clear()
    fetched, report = assistant.add_urls([f"{site}/feed.xml"], allow_private=True)
    assert fetched.feeds == [f"{site}/feed.xml"] and len(fetched.saved) == 2 and not fetched.failed
    assert sorted(report.added) == sorted(f"web/{p.relative_to(index_dir / 'web').as_posix()}" for p in fetched.saved)
    answer = assistant.ask("友谊关口岸货运车辆通关时间平均缩短至多少？")
    c = answer.citations[0]
    assert "30分钟" in answer.text and c.doc_id.startswith("web/127.0.0.1/")
    assert assistant.source_urls()[c.doc_id] == f"{site}/border.html"
    assert len(assistant.documents()) == 4  # the seeds stay

    again, report = assistant.add_urls([f"{site}/feed.xml"], allow_private=True)
    assert again.saved == [] and sorted(again.unchanged) == [f"{site}/border.html", f"{site}/trade.html"]
    assert NewsSite.served == {"/border.html": 1, "/trade.html": 1}  # answered 304 the second time
    assert not report.written


def test_retries_limits_and_redirects(site, tmp_path):
    from rag.fetch import Fetcher

    fetcher = Fetcher(tmp_path, allow_private=True, backoff=0.0)
    report = fetcher.fetch([f"{site}/flaky.html", f"{site}/huge.html", f"{site}/missing.html", f"{site}/moved"])
    assert [p.suffix for p in report.saved] == [".html", ".html"]  # flaky (after a 503) and the redirect
    failed = dict(report.failed)
    assert "larger than the 5 MB limit" in failed[f"{site}/huge.html"]
    assert "HTTP 404" in failed[f"{site}/missing.html"]


def test_rag_index_takes_urls_and_a_url_list(site, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# border news\n{site}/trade.html\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    run = [sys.executable, "-m", "rag.cli", "index", f"{site}/border.html", "--urls", str(urls), "--index",
           str(index_dir), "-q"]
    refused = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "private or local address" in refused.stderr
    done = subprocess.run([*run, "--allow-private"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "fetched: 2 fetched, 0 unchanged" in done.stdout and "2 added" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "rag.cli", "index", "ftp://example.com/x", "--index", str(index_dir)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "only http:// and https:// URLs" in bad.stderr
