"""A recording webhook receiver for tests of notifications: an HTTP server on 127.0.0.1 (free
port) that records every POST and answers 200, or a chosen status for the next N requests::

    with WebhookReceiver() as hook:
        hook.fail_next(2, status=500)        # the next two POSTs get 500, then 200 again
        send(Channel("ops", "apprise", hook.apprise_url("/alerts")), message)
        assert hook.requests[-1].body["title"] == ...
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One recorded request: ``body`` is the parsed JSON (``None`` if not JSON), ``status`` what
    the receiver answered."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any
    status: int


class WebhookReceiver:
    """Context manager running a recording webhook server in a background thread."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._status = status
        self._failures: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                status = receiver._record(self.command, self.path, dict(self.headers.items()), raw, body)
                answer = b'{"ok": true}' if status < 300 else b'{"ok": false}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _record(self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any) -> int:
        with self._lock:
            status = self._failures.pop(0) if self._failures else self._status
            self.requests.append(Received(method, path, headers, raw, body, status))
            return status

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base HTTP URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    def apprise_url(self, path: str = "/hook", scheme: str = "json") -> str:
        """An Apprise URL posting to this receiver (``json://127.0.0.1:PORT/path``)."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer ``status`` to the next ``count`` requests, then the usual status again."""
        with self._lock:
            self._failures.extend([status] * count)

    def always(self, status: int) -> None:
        """Answer ``status`` to every request from now on (pending failures are dropped)."""
        with self._lock:
            self._failures.clear()
            self._status = status

    def always_ok(self) -> None:
        """Answer 200 to every request from now on."""
        self.always(200)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least ``count`` requests arrived; return them (fails on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} request(s) within {timeout}s, got {len(self.requests)}")

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
