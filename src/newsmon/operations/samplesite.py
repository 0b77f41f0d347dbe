"""A small HTTP server for the bundled demo site (``samples/site``) and for tests.

Text files have the ``{{BASE_URL}}`` placeholder replaced by the server's own base URL, so
feeds and pages link to wherever the site is served. ETag/Last-Modified and conditional GET
work as on a real news site, so a second poll gets 304 Not Modified.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from newsmon.core.config import PROJECT_ROOT

SAMPLES_SITE = PROJECT_ROOT / "samples" / "site"
PLACEHOLDER = b"{{BASE_URL}}"
_TYPES = {".xml": "application/rss+xml; charset=utf-8", ".atom": "application/atom+xml; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".json": "application/feed+json; charset=utf-8",
          ".txt": "text/plain; charset=utf-8"}
_STARTED = formatdate(usegmt=True)


class SampleSite:
    """Serve ``root`` on 127.0.0.1 in a background thread (``port=0``: a free port)."""

    def __init__(self, root: Path = SAMPLES_SITE, port: int = 0) -> None:
        self.root = root.resolve()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SampleSite:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(handler.path).path)
        self.requests.append(path)
        target = (self.root / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if (self.root not in target.parents and target != self.root) or not target.is_file():
            handler.send_error(404, "Not Found")
            return
        body = target.read_bytes().replace(PLACEHOLDER, self.base_url.encode("ascii"))
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", _TYPES.get(target.suffix, "application/octet-stream"))
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", _STARTED)
        handler.end_headers()
        handler.wfile.write(body)
