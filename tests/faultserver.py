"""A fault-injecting HTTP server for robustness tests. Each path is one misbehaviour; the
table ``ROUTES`` says what it does. Bounded: it only ever serves 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GOOD_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Fault server feed</title><language>en</language>
<item><title>Only item</title><link>http://127.0.0.1:1/item.html</link><guid>fault-1</guid>
<description>A summary long enough to stand in for the page when the page cannot be fetched.</description>
</item></channel></rss>"""

ROUTES = {
    "/ok.xml": "a valid RSS feed with one item",
    "/html.xml": "an HTML page where a feed should be",
    "/malformed.xml": "XML that is not a feed and not well-formed",
    "/truncated.xml": "a feed cut in the middle of its second item",
    "/empty.xml": "200 with an empty body",
    "/nofeeditems.xml": "a valid RSS feed with no items",
    "/404": "404 Not Found",
    "/500": "500 Internal Server Error",
    "/flaky": "500 on the first request of a key (?key=...), then the valid feed",
    "/429": "429 Too Many Requests with Retry-After: 120",
    "/slow": "sleeps ?seconds=N (default 5) before answering",
    "/reset": "closes the connection without answering",
    "/redirect-loop": "redirects to itself",
    "/redirect-chain": "redirects ?n=N times, then serves the valid feed",
    "/big": "an endless body (past any size cap)",
    "/gzip-bomb": "a small gzip body that inflates to 60 MB",
    "/etag.xml": "the valid feed with an ETag; answers 304 to If-None-Match",
    "/pages.xml": "?prefix=P: two items linking to /page?key=P-a&fail=2 and /page?key=P-b&fail=0",
    "/page": "an article page; 503 for the first ?fail=N requests of ?key=K",
    "/robots.txt": "disallows /private/ to every user agent",
    "/private/": "an article page (under a robots.txt Disallow)",
    "/robots-feed.xml": "two items: /private/story.html (disallowed) and /page?key=robots-ok",
    "/liar.xml": "?key=K: new content on every request, yet always ETag \"same\" and 304 to it",
    "/redirect-to": "302 to ?target=URL",
    "/xxe.xml": "RSS whose title is an external entity pointing at file:///etc/passwd",
    "/laughs.xml": "RSS with a billion-laughs entity bomb in a title",
    "/mislabeled.xml": "RSS declared UTF-8 (header and XML) but written in ISO-8859-1",
    "/invalid-utf8.xml": "RSS with invalid UTF-8 byte sequences in an item",
    "/wrong-type.xml": "a valid RSS feed served as image/png",
    "/wire.xml": "?key=K: a NewsML-G2 item; 1st request version 1, 2nd version 2 (new text), then canceled",
}

WIRE_ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.test:{key}"
    version="{version}" standard="NewsML-G2" standardversion="2.31" xml:lang="en">
  <itemMeta><itemClass qcode="ninat:text"/><versionCreated>2026-11-24T1{version}:00:00Z</versionCreated>
    <pubStatus qcode="stat:{status}"/></itemMeta>
  <contentMeta><contentCreated>2026-11-24T09:00:00Z</contentCreated>
    <headline>{headline}</headline></contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml"><html><body>
    <p>BRUSSELS, Nov 24, 2026 (AFP) - NATO and Russian military officers held a first video call on
    Tuesday on preventing incidents over the Baltic Sea, officials said, a step both sides
    described as technical rather than political.</p>
    <p>{extra}</p>
  </body></html></inlineXML></contentSet>
</newsItem>"""

ARTICLE_HTML = """<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>
<p>BRUSSELS, Nov 24, 2026 (AFP) - Allied ambassadors met on Tuesday to review air policing over the
Baltic states after several incidents involving unidentified aircraft near the border ({key}).</p>
<p>"We are watching the situation closely and we remain calm," one diplomat said after the meeting,
adding that the review would be completed before the end of the year.</p>
<p>The talks were described as routine by officials from three delegations, who said no decision on
new deployments was expected this week.</p></article>
<footer>Contact - Legal notice</footer></body></html>"""


BIG_CHUNK = b"<!-- padding -->" * 64
BIG_CHUNKS = 60_000


class FaultServer:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.big_sent: dict[str, int] = {}  # /big request key -> bytes written before the client left
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                import sys

                if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up on purpose
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._bomb = gzip.compress(b"\0" * 60_000_000, compresslevel=9)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base_url + path

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "application/rss+xml",
              headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path, query = parts.path, parse_qs(parts.query)
        key = path + "?" + parts.query
        self.hits[key] = self.hits.get(key, 0) + 1
        if path == "/ok.xml":
            self._send(h, 200, GOOD_RSS)
        elif path == "/echo-host":  # the Host header the client sent
            self._send(h, 200, (h.headers.get("Host") or "").encode(), ctype="text/plain")
        elif path == "/html.xml":
            self._send(h, 200, b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", "text/html")
        elif path == "/malformed.xml":
            self._send(h, 200, b"<?xml version='1.0'?><data><unclosed></data>", "text/xml")
        elif path == "/truncated.xml":
            self._send(h, 200, GOOD_RSS.replace(b"</item></channel></rss>", b"</item><item><title>Cut"))
        elif path == "/empty.xml":
            self._send(h, 200, b"")
        elif path == "/nofeeditems.xml":
            self._send(h, 200, b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title>"
                               b"</channel></rss>")
        elif path == "/404":
            self._send(h, 404, b"not found", "text/plain")
        elif path == "/500":
            self._send(h, 500, b"boom", "text/plain")
        elif path == "/flaky":
            self._send(h, 500 if self.hits[key] == 1 else 200, GOOD_RSS)
        elif path == "/429":
            self._send(h, 429, b"slow down", "text/plain", {"Retry-After": "120"})
        elif path == "/slow":
            time.sleep(float(query.get("seconds", ["5"])[0]))
            self._send(h, 200, GOOD_RSS)
        elif path == "/reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
        elif path == "/redirect-loop":
            self._send(h, 302, headers={"Location": "/redirect-loop"})
        elif path == "/redirect-chain":
            n = int(query.get("n", ["1"])[0])
            location = f"/redirect-chain?n={n - 1}" if n > 1 else "/ok.xml"
            self._send(h, 302, headers={"Location": location})
        elif path == "/big":
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.end_headers()
            h.close_connection = True
            sent = 0
            try:
                for _ in range(BIG_CHUNKS):  # 60 MB at most: bounded even if the client never stops
                    h.wfile.write(BIG_CHUNK)
                    sent += len(BIG_CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.big_sent[key] = sent  # set once the client hung up (or the 60 MB went out)
        elif path == "/gzip-bomb":
            self._send(h, 200, self._bomb, headers={"Content-Encoding": "gzip"})
        elif path == "/etag.xml":
            if h.headers.get("If-None-Match") == '"v1"':
                self._send(h, 304, headers={"ETag": '"v1"'})
            else:
                self._send(h, 200, GOOD_RSS, headers={"ETag": '"v1"'})
        elif path == "/pages.xml":
            prefix = query.get("prefix", ["p"])[0]
            items = "".join(
                f"<item><title>Story {k}</title><link>{self.base_url}/page?key={k}&amp;fail={n}</link>"
                f"<guid>page-{k}</guid><description>Feed summary of story {k}, long enough to be kept "
                f"as the article text while the page cannot be fetched.</description></item>"
                for k, n in ((prefix + "-a", 2), (prefix + "-b", 0)))
            self._send(h, 200, f"<?xml version='1.0'?><rss version='2.0'><channel><title>Pages</title>"
                               f"{items}</channel></rss>".encode())
        elif path == "/page":
            page_key = query.get("key", ["x"])[0]
            count = self.hits.get("page:" + page_key, 0) + 1
            self.hits["page:" + page_key] = count
            if count <= int(query.get("fail", ["0"])[0]):
                self._send(h, 503, b"busy", "text/plain", {"Retry-After": "1"})
            else:
                body = ARTICLE_HTML.format(title=f"Story {page_key}", key=page_key).encode()
                self._send(h, 200, body, "text/html; charset=utf-8")
        elif path == "/robots.txt":
            self._send(h, 200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path.startswith("/private/"):
            body = ARTICLE_HTML.format(title="Private story", key="private").encode()
            self._send(h, 200, body, "text/html; charset=utf-8")
        elif path == "/robots-feed.xml":
            items = "".join(
                f"<item><title>{t}</title><link>{self.base_url}{link}</link><guid>{t}</guid>"
                f"<description>Feed summary of {t}, long enough to be kept as the article text when "
                f"the page is not fetched.</description></item>"
                for t, link in (("private story", "/private/story.html"),
                                ("public story", "/page?key=robots-ok&amp;fail=0")))
            self._send(h, 200, f"<?xml version='1.0'?><rss version='2.0'><channel><title>Robots</title>"
                               f"{items}</channel></rss>".encode())
        elif path == "/liar.xml":
            liar = "liar:" + query.get("key", ["x"])[0]
            count = self.hits.get(liar, 0) + 1
            self.hits[liar] = count
            if h.headers.get("If-None-Match") == '"same"':
                self._send(h, 304, headers={"ETag": '"same"'})
            else:
                feed = GOOD_RSS.replace(b"fault-1", f"liar-{count}".encode())
                self._send(h, 200, feed, headers={"ETag": '"same"'})
        elif path == "/xxe.xml":
            body = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                    b'<rss version="2.0"><channel><title>XXE</title><item><title>&xxe;</title>'
                    b'<link>http://127.0.0.1:1/xxe.html</link><guid>xxe-1</guid>'
                    b'<description>Summary &xxe; of an item carrying an external entity.</description>'
                    b'</item></channel></rss>')
            self._send(h, 200, body)
        elif path == "/laughs.xml":
            levels = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
            body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{levels}]>'
                    f'<rss version="2.0"><channel><title>Laughs</title><item><title>&l9;</title>'
                    f'<link>http://127.0.0.1:1/l.html</link><guid>laughs-1</guid></item></channel></rss>')
            self._send(h, 200, body.encode())
        elif path == "/mislabeled.xml":
            text = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Dépêches"
                    "</title><item><title>Élection à Genève : la sécurité européenne en débat</title>"
                    "<link>http://127.0.0.1:1/geneve.html</link><guid>latin-1</guid><description>Les "
                    "délégués ont débattu jeudi à Genève de la sécurité européenne, a-t-on appris."
                    "</description></item></channel></rss>")
            self._send(h, 200, text.encode("latin-1"), "application/rss+xml; charset=utf-8")
        elif path == "/invalid-utf8.xml":
            body = GOOD_RSS.replace(b"Only item", b"Only \xff\xfe item \xc3\x28 broken")
            self._send(h, 200, body, "application/rss+xml; charset=utf-8")
        elif path == "/wrong-type.xml":
            self._send(h, 200, GOOD_RSS, "image/png")
        elif path == "/wire.xml":
            wire = "wire:" + query.get("key", ["x"])[0]
            step = self.hits[wire] = self.hits.get(wire, 0) + 1
            version, status = (1, "usable") if step == 1 else (2, "usable" if step == 2 else "canceled")
            extra = ("The call lasted about an hour, a NATO official said." if version == 1 else
                     "The call lasted about an hour and a second one is planned for December, a NATO "
                     "official said, adding that Moscow had proposed the date.")
            body = WIRE_ITEM.format(key=query.get("key", ["x"])[0], version=version, status=status,
                                    headline=("UPDATE - " if version == 2 else "") + "NATO, Russia hold call",
                                    extra=extra)
            self._send(h, 200, body.encode(), "application/vnd.iptc.g2.newsitem+xml")
        elif path == "/redirect-to":
            self._send(h, 302, headers={"Location": query.get("target", ["/ok.xml"])[0]})
        else:
            self._send(h, 404, b"unknown fault route", "text/plain")
