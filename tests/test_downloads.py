"""The HTTP edge against a real misbehaving server (tests/faultserver.py) on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from newsmon.core.config import Settings
from newsmon.core.errors import FetchError
from newsmon.ingest.downloads import Fetcher
from tests.faultserver import BIG_CHUNK, BIG_CHUNKS, GOOD_RSS, FaultServer

SETTINGS = Settings(read_timeout=1, connect_timeout=1, max_body_bytes=1_000_000, max_redirects=3,
                    host_min_interval=0)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A fresh client per test: a host's Retry-After pause must not leak into the next test."""
    with Fetcher(SETTINGS) as f:
        yield f


def _fail(fetcher: Fetcher, url: str, **kwargs: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, allow_private=True, **kwargs)
    return caught.value


def test_ok(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A valid feed comes back whole, with status 200, final URL and lower-cased headers."""
    result = fetcher.fetch(fault_server.url("/ok.xml"), allow_private=True)
    assert result.status == 200
    assert result.body == GOOD_RSS
    assert result.url == fault_server.url("/ok.xml")
    assert result.headers["content-type"] == "application/rss+xml"
    assert not result.not_modified


def test_404_is_permanent(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """404 Not Found: retrying is pointless."""
    error = _fail(fetcher, fault_server.url("/404"))
    assert (error.status, error.transient) == (404, False)
    assert "HTTP 404" in str(error)


def test_500_is_transient(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """500 Internal Server Error: a later retry may succeed."""
    error = _fail(fetcher, fault_server.url("/500"))
    assert (error.status, error.transient) == (500, True)


def test_429_is_transient_and_reports_retry_after(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """429 Too Many Requests is transient and its message carries the server's Retry-After."""
    error = _fail(fetcher, fault_server.url("/429"))
    assert (error.status, error.transient) == (429, True)
    assert "Retry-After: 120" in str(error)


def test_flaky_server_recovers_on_retry(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A transient 500 is followed by success on the next request (what makes retrying worth it)."""
    url = fault_server.url("/flaky?key=downloads-test")
    assert _fail(fetcher, url).transient
    assert fetcher.fetch(url, allow_private=True).body == GOOD_RSS


def test_slow_response_times_out_transiently(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A server silent past read_timeout (1 s) gives a transient 'timed out' error: it answers
    after 3 s, so the error shows the client gave up first (no wall-clock assertion)."""
    error = _fail(fetcher, fault_server.url("/slow?seconds=3"))
    assert error.transient
    assert "timed out" in str(error)


def test_connection_reset_is_a_fetch_error(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A connection closed without an answer is a transient FetchError, not an httpx exception."""
    error = _fail(fetcher, fault_server.url("/reset"))
    assert error.transient and error.kind == "soft"
    assert "connection failed" in str(error)


def test_redirect_loop_is_permanent(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A URL redirecting to itself is detected as a loop, not followed until the limit."""
    error = _fail(fetcher, fault_server.url("/redirect-loop"))
    assert not error.transient
    assert "redirect loop" in str(error)


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_redirect_chain_within_limit(fetcher: Fetcher, fault_server: FaultServer, hops: int) -> None:
    """Up to max_redirects (3) redirects are followed; the result names the final URL."""
    result = fetcher.fetch(fault_server.url(f"/redirect-chain?n={hops}"), allow_private=True)
    assert result.status == 200
    assert result.body == GOOD_RSS
    assert result.url == fault_server.url("/ok.xml")


@pytest.mark.parametrize("hops", [4, 5])
def test_redirect_chain_over_limit(fetcher: Fetcher, fault_server: FaultServer, hops: int) -> None:
    """More redirects than max_redirects (3) is a permanent 'too many redirects' error."""
    error = _fail(fetcher, fault_server.url(f"/redirect-chain?n={hops}"))
    assert not error.transient
    assert "too many redirects" in str(error)


def test_endless_body_is_cut_at_the_cap_quickly(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A body past max_body_bytes (1 MB) is abandoned ('too large', permanent) without reading it
    all: the server could write 60 MB and stops when the client hangs up, a few MB in (the cap
    plus what the sockets buffer)."""
    url = fault_server.url("/big?key=cap")
    error = _fail(fetcher, url)
    assert not error.transient
    assert "too large" in str(error)
    fetcher.close()  # the client side of the connection is closed now in any case
    key = "/big?key=cap"
    deadline = time.monotonic() + 30  # a wait for the server thread, not a timing assertion
    while key not in fault_server.big_sent and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = fault_server.big_sent.get(key)
    assert sent is not None, "the server never saw the client hang up"
    assert SETTINGS.max_body_bytes <= sent < len(BIG_CHUNK) * BIG_CHUNKS // 4, sent


def test_gzip_bomb_is_stopped_by_the_decompressed_cap(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """A 60 KB gzip body inflating to 60 MB hits the cap on decompressed bytes."""
    error = _fail(fetcher, fault_server.url("/gzip-bomb"))
    assert not error.transient
    assert "too large" in str(error) and "decompression" in str(error)


def test_conditional_get_with_etag_gives_304(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """Sending back the ETag received gets 304: not_modified, empty body, validator kept."""
    first = fetcher.fetch(fault_server.url("/etag.xml"), allow_private=True)
    assert first.status == 200 and first.etag == '"v1"'
    second = fetcher.fetch(fault_server.url("/etag.xml"), etag=first.etag, allow_private=True)
    assert second.status == 304
    assert second.not_modified
    assert second.body == b""
    assert second.etag == '"v1"'


def test_stale_etag_gets_the_full_document(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """An ETag the server no longer has gets a full 200 answer."""
    result = fetcher.fetch(fault_server.url("/etag.xml"), etag='"v0"', allow_private=True)
    assert result.status == 200 and result.body == GOOD_RSS


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd",
                                 "javascript:alert(1)", "127.0.0.1/feed.xml"])
def test_non_http_scheme_refused(fetcher: Fetcher, url: str) -> None:
    """Only http and https are fetched; anything else is refused, permanently."""
    error = _fail(fetcher, url)
    assert not error.transient
    assert "refused URL scheme" in str(error)


def test_connection_refused_is_transient(fetcher: Fetcher) -> None:
    """Nothing listening on the port: a transient 'connection failed'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = _fail(fetcher, f"http://127.0.0.1:{port}/feed.xml")
    assert error.transient and error.kind == "hard"
    assert "connection refused" in str(error)


def test_fetcher_still_works_after_failures(fetcher: Fetcher, fault_server: FaultServer) -> None:
    """After resets, timeouts and abandoned bodies, the shared client still fetches normally."""
    for path in ("/reset", "/big", "/slow?seconds=2"):
        with pytest.raises(FetchError):
            fetcher.fetch(fault_server.url(path), allow_private=True)
    assert fetcher.fetch(fault_server.url("/ok.xml"), allow_private=True).body == GOOD_RSS


def _rebinding_getaddrinfo(first: str, then: str) -> tuple[object, list[str]]:
    """A getaddrinfo for ``rebind.test`` answering ``first`` on the first lookup and ``then`` on
    every later one (DNS rebinding); other names resolve as usual. Returns it and its answers."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def fake(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        address = first if not answers else then
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    return fake, answers


def test_ssrf_guard_connects_to_the_address_it_checked(fault_server: FaultServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name resolves to an allowed address when checked and to a forbidden one
    (the loopback server) afterwards. The connection goes to the checked address (nothing listens
    on 127.0.0.2 at the server's port: refused), so the loopback server is never reached; the
    name is looked up once."""
    fake, answers = _rebinding_getaddrinfo("127.0.0.2", "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = fault_server.url("").rsplit(":", 1)[1].rstrip("/")
    before = dict(fault_server.hits)
    with Fetcher(SETTINGS) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(f"http://rebind.test:{port}/ok.xml", allow_private=["127.0.0.2"])
    assert fault_server.hits == before, "the rebound (forbidden) address was contacted"
    assert answers == ["127.0.0.2"], answers
    assert "refused" in str(caught.value) or "connection" in str(caught.value)


def test_pinned_connection_keeps_the_host_name(fault_server: FaultServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Connecting to the checked address still sends the URL's host name (Host header; SNI for
    HTTPS comes from the same origin), and a permitted address is fetched normally."""
    fake, answers = _rebinding_getaddrinfo("127.0.0.1", "203.0.113.9")
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    port = fault_server.url("").rsplit(":", 1)[1].rstrip("/")
    with Fetcher(SETTINGS) as fetcher:
        result = fetcher.fetch(f"http://rebind.test:{port}/echo-host", allow_private=["127.0.0.1"])
    assert result.status == 200 and result.body == f"rebind.test:{port}".encode()
    assert answers == ["127.0.0.1"]
