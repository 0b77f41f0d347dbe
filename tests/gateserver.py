"""A news site on 127.0.0.1 whose feed can be held: a request to /feed.xml waits while the gate is
closed, so a test can act (kill the task, cut the database) while a poll is in flight."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLES = {
    "a1": ("NATO ministers meet in Brussels",
           "Defence ministers of the North Atlantic alliance met in Brussels on Tuesday to discuss "
           "air defence for the eastern flank. "),
    "a2": ("Russia moves troops near the border",
           "Satellite images show new Russian units near the border with Finland, officials said "
           "on Wednesday, as the alliance reviewed its plans. "),
}


def _page(title: str, text: str) -> bytes:
    body = "".join(f"<p>{text * 3}Paragraph {i} adds the details reporters gathered that day.</p>"
                   for i in range(6))
    return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode()


class GateServer:
    """Serves /feed.xml (two items) and their article pages; ``close()`` holds feed requests until
    ``open()``; ``feed_requests`` counts them (with a condition to wait on)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.feed_requests = 0
        self.changed = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> GateServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def close(self) -> None:
        self.gate.clear()

    def open(self) -> None:
        self.gate.set()

    def wait_for_feed_request(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.feed_requests >= count, timeout)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.startswith("/feed.xml"):
            with self.changed:
                self.feed_requests += 1
                self.changed.notify_all()
            self.gate.wait(300)
            items = "".join(f"<item><title>{title}</title><link>{self.base_url}/{key}.html</link>"
                            f"<guid>{self.base_url}/{key}.html</guid>"
                            f"<pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>"
                            for key, (title, _) in ARTICLES.items())
            body = (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Gate</title>"
                    f"<link>{self.base_url}/</link>{items}</channel></rss>").encode()
            ctype = "application/rss+xml"
        elif h.path.strip("/").removesuffix(".html") in ARTICLES:
            body = _page(*ARTICLES[h.path.strip("/").removesuffix(".html")])
            ctype = "text/html; charset=utf-8"
        else:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
