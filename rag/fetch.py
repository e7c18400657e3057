"""Fetch news from the web: a page, or an RSS/Atom feed and every item's page, into an index's ``web/`` folder.

Fetching is polite: a timeout, a size limit, a user agent that says who we are, retries with backoff on
timeouts, 429 and 5xx (``Retry-After`` honoured, up to ``MAX_RETRY_AFTER``), redirects followed by hand so that
each hop is checked. Addresses on private, loopback and link-local networks are refused unless
``allow_private`` (a server inside a company network, or a test's on 127.0.0.1): a URL pasted into the page
must not make the server read its own network. A re-run asks only for what changed: the ETag and
Last-Modified of the last fetch go with the request, and a page whose bytes did not change is not written
again (so the index embeds nothing new). What was fetched from where is kept in ``INDEX/fetched.json``;
pages are stored as ``INDEX/web/<host>/<name>`` and indexed like any folder (document ids ``web/<host>/…``).

>>> page_path("https://news.example.com/2024/05/border-trade.html?id=7", "text/html").as_posix()
'news.example.com/border-trade-0f7203958c.html'
>>> check_url("file:///etc/passwd")
Traceback (most recent call last):
...
ValueError: only http:// and https:// URLs can be fetched, got 'file:///etc/passwd'
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

TIMEOUT_SECONDS = 20.0
MAX_BYTES = 5 * 2**20
RETRIES = 3
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER = 10.0
MAX_REDIRECTS = 5
MAX_FEED_ITEMS = 50
STATE_FILE = "fetched.json"
WEB_FOLDER = "web"
_TYPES = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf", "text/plain": ".txt",
          "text/markdown": ".md"}
_FEED = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.I)


class FetchError(ValueError):
    """A URL that could not be fetched; the message says why."""


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("rag-news-qa")
    except PackageNotFoundError:
        v = "dev"
    return f"rag-news-qa/{v} (news question answering; polite fetcher)"


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"only http:// and https:// URLs can be fetched, got {url!r}")
    return url


def _private(host: str) -> bool:
    """Does ``host`` resolve to a private, loopback, link-local or otherwise non-public address?"""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise FetchError(f"{host}: the name does not resolve ({exc.strerror})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return True
    return False


def page_path(url: str, content_type: str) -> Path:
    """Where a page fetched from ``url`` is stored, under the web folder: its host, then a name made of the
    URL's last path part and a hash of the whole URL (two URLs never share a file)."""
    parts = urlsplit(url)
    stem = Path(parts.path.rstrip("/")).stem or "index"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:60] or "page"
    suffix = _TYPES.get(content_type.split(";")[0].strip().lower(), ".html")
    digest = hashlib.sha1(url.encode()).hexdigest()[:10]
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", parts.hostname or "host")
    return Path(host) / f"{stem}-{digest}{suffix}"


@dataclass
class Response:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    headers: dict


@dataclass
class FetchReport:
    saved: list[Path] = field(default_factory=list)  # new or changed pages, written
    unchanged: list[str] = field(default_factory=list)  # URLs whose page is as last time
    failed: list[tuple[str, str]] = field(default_factory=list)  # (URL, why)
    feeds: list[str] = field(default_factory=list)  # URLs that were feeds (their items were fetched)

    def summary(self) -> str:
        parts = [f"{len(self.saved)} fetched", f"{len(self.unchanged)} unchanged"]
        if self.feeds:
            parts.append(f"{len(self.feeds)} feed{'s' if len(self.feeds) > 1 else ''} read")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts)


class Fetcher:
    def __init__(self, index_dir: str | Path, *, allow_private: bool = False, timeout: float = TIMEOUT_SECONDS,
                 max_bytes: int = MAX_BYTES, retries: int = RETRIES, backoff: float = BACKOFF_SECONDS):
        self.index_dir = Path(index_dir)
        self.web_dir = self.index_dir / WEB_FOLDER
        self.allow_private = allow_private
        self.timeout, self.max_bytes, self.retries, self.backoff = timeout, max_bytes, retries, backoff
        self.state = read_state(self.index_dir)
        self._client = None  # the HTTP client while fetch() runs

    # ---- one request ------------------------------------------------------------------------
    def get(self, url: str, headers: dict | None = None) -> Response:
        """GET ``url``: redirects followed (each hop checked), retries on timeouts, 429 and 5xx, the body cut off
        at ``max_bytes``. Raises ``FetchError`` with the reason."""
        url = check_url(url)
        if self._client is None:  # a request on its own; fetch() keeps one client (and its connections) for all
            with self._open_client() as client:
                return self._get(client, url, headers or {})
        return self._get(self._client, url, headers or {})

    def _open_client(self):
        import httpx

        return httpx.Client(timeout=self.timeout, follow_redirects=False,
                            headers={"User-Agent": user_agent(), "Accept": "text/html,application/xhtml+xml,"
                                     "application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"})

    def _get(self, client, url: str, headers: dict) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).hostname or ""
            if not self.allow_private and _private(host):
                raise FetchError(f"{url}: {host} is a private or local address; pass --allow-private "
                                 f"(allow_private=True) to fetch from it")
            response = self._with_retries(client, url, headers)
            if response.status in (301, 302, 303, 307, 308) and "location" in response.headers:
                url = check_url(urljoin(url, response.headers["location"]))
                continue
            return response
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _with_retries(self, client, url: str, headers: dict) -> Response:
        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(MAX_RETRY_AFTER, self.backoff * 2 ** (attempt - 1)))
            try:
                with client.stream("GET", url, headers=headers) as r:
                    if r.status_code == 429 or r.status_code >= 500:
                        last = f"HTTP {r.status_code}"
                        wait = r.headers.get("retry-after", "")
                        if wait.isdigit() and attempt < self.retries:
                            time.sleep(min(MAX_RETRY_AFTER, float(wait)))
                        continue
                    body = bytearray()
                    for piece in r.iter_bytes():
                        body += piece
                        if len(body) > self.max_bytes:
                            raise FetchError(f"{url}: larger than the {self.max_bytes / 2**20:.0f} MB limit")
                    return Response(str(r.url), r.status_code, r.headers.get("content-type", ""), bytes(body),
                                    {k.lower(): v for k, v in r.headers.items()})
            except httpx.TimeoutException:
                last = f"no answer within {self.timeout:.0f} s"
            except httpx.TransportError as exc:
                last = f"connection failed ({type(exc).__name__})"
        raise FetchError(f"{url}: {last}, after {self.retries + 1} tries")

    # ---- pages and feeds -----------------------------------------------------------------------
    def fetch(self, urls, *, progress: bool = False) -> FetchReport:
        """Fetch each URL (a page, or a feed: then each item's page) into the web folder; returns what happened.
        Failures are reported, not raised, so one bad URL does not stop the rest."""
        from tqdm import tqdm

        report = FetchReport()
        with self._open_client() as self._client:
            try:
                for url in tqdm(list(urls), desc="Fetching", unit="url", disable=not progress):
                    try:
                        self._fetch_one(check_url(url), report, feed_allowed=True)
                    except (FetchError, ValueError) as exc:
                        report.failed.append((url, str(exc)))
            finally:
                self._client = None
        write_state(self.index_dir, self.state)
        return report

    def _fetch_one(self, url: str, report: FetchReport, *, feed_allowed: bool) -> None:
        known = self.state.get(url, {})
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        if known.get("feed"):
            headers = {}  # a feed is read again every time: its items are what may be new
        response = self.get(url, headers)
        if response.status == 304:
            report.unchanged.append(url)
            return
        if response.status >= 400:
            raise FetchError(f"{url}: HTTP {response.status}")
        if feed_allowed and _is_feed(response):
            self.state[url] = {"feed": True}
            report.feeds.append(url)
            for link in feed_links(response.body)[:MAX_FEED_ITEMS]:
                try:
                    self._fetch_one(check_url(urljoin(response.url, link)), report, feed_allowed=False)
                except (FetchError, ValueError) as exc:
                    report.failed.append((link, str(exc)))
            return
        digest = hashlib.sha256(response.body).hexdigest()
        relative = Path(known["path"]) if known.get("path") else page_path(url, response.content_type)
        stored = self.web_dir / relative
        entry = {"path": relative.as_posix(), "sha256": digest, "etag": response.headers.get("etag"),
                 "last_modified": response.headers.get("last-modified"), "final_url": response.url}
        self.state[url] = entry
        if known.get("sha256") == digest and stored.exists():
            report.unchanged.append(url)
            return
        stored.parent.mkdir(parents=True, exist_ok=True)
        partial = stored.with_name(f".{stored.name}.{os.getpid()}")
        partial.write_bytes(response.body)
        os.replace(partial, stored)
        report.saved.append(stored)


def _is_feed(response: Response) -> bool:
    kind = response.content_type.lower()
    return any(t in kind for t in ("rss", "atom", "xml")) and bool(_FEED.search(response.body[:4096]))


def feed_links(body: bytes) -> list[str]:
    """The item links of an RSS or Atom feed (feedparser), in the feed's order.

    >>> feed_links(b'<rss version="2.0"><channel><title>t</title><item><title>a</title>'
    ...            b'<link>https://example.com/a.html</link></item></channel></rss>')
    ['https://example.com/a.html']
    """
    import feedparser

    parsed = feedparser.parse(body)
    links = []
    for entry in parsed.entries:
        link = entry.get("link")
        if link and link not in links:
            links.append(link)
    return links


def read_state(index_dir: Path) -> dict:
    try:
        return json.loads((Path(index_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_state(index_dir: Path, state: dict) -> None:
    path = Path(index_dir) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, path)


_urls_cache: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}


def source_urls(index_dir: str | Path) -> dict[str, str]:
    """Document id → the URL it was fetched from, for the pages in ``INDEX/web``. Read again only when
    ``fetched.json`` changed (``rag serve`` asks for it with every answer)."""
    path = Path(index_dir) / STATE_FILE
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        return {}
    cached = _urls_cache.get(path)
    if cached is None or cached[0] != stamp:
        urls = {f"{WEB_FOLDER}/{entry['path']}": url for url, entry in read_state(Path(index_dir)).items()
                if entry.get("path")}
        _urls_cache[path] = cached = (stamp, urls)
    return dict(cached[1])


def is_url(text: str) -> bool:
    """Is this command-line argument a URL (any ``scheme://``) rather than a path?"""
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", str(text).strip()))
