"""SSRF guard, Retry-After parsing and per-host pacing (pure; fake resolver and clock)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from newsmon.ingest.netpolicy import HostBusy, HostScheduler, host_key, refusal_reason, retry_after_seconds

FAKE_DNS = {"news.example": ["93.184.216.34"], "intranet.example": ["10.1.2.3"],
            "mixed.example": ["93.184.216.34", "192.168.1.5"], "v6.example": ["::1"],
            "mapped.example": ["::ffff:127.0.0.1"]}


def fake_resolver(host: str, port: int) -> list[str]:
    if host not in FAKE_DNS:
        raise OSError("Name or service not known")
    return FAKE_DNS[host]


@pytest.mark.parametrize(("url", "fragment"), [
    ("http://news.example/rss", None),
    ("https://news.example:8443/a", None),
    ("http://intranet.example/feed", "resolves to 10.1.2.3"),
    ("http://mixed.example/", "resolves to 192.168.1.5"),
    ("http://v6.example/", "resolves to ::1"),
    ("http://mapped.example/", "resolves to 127.0.0.1"),
    ("http://127.0.0.1:8080/feed", "resolves to 127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://[::1]/", "resolves to ::1"),
    ("http://0.0.0.0/", "resolves to 0.0.0.0"),
    ("http://100.64.1.1/", "resolves to 100.64.1.1"),
    ("http://metadata.google.internal/", "metadata"),
    ("ftp://news.example/file", "refused URL scheme"),
    ("file:///etc/passwd", "refused URL scheme"),
    ("http://unknown.example/", None),  # unresolvable: left to fail as a DNS error
])
def test_refusal_reasons(url: str, fragment: str | None) -> None:
    """Public addresses pass; loopback, private, link-local, CGNAT, metadata and odd schemes don't."""
    reason = refusal_reason(url, resolver=fake_resolver)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None and fragment in reason


def test_allow_private_list_permits_only_what_it_names() -> None:
    """A source allowed 127.0.0.1 may use it, and nothing else private."""
    allow = ("127.0.0.1/32",)
    assert refusal_reason("http://127.0.0.1:9/x", allow_private=allow, resolver=fake_resolver) is None
    assert refusal_reason("http://intranet.example/", allow_private=allow, resolver=fake_resolver)
    assert refusal_reason("http://intranet.example/", allow_private=True, resolver=fake_resolver) is None


def test_retry_after_forms() -> None:
    """Delta-seconds and HTTP dates; garbage and absence give None; past dates give 0."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 25 Nov 2026 12:01:30 GMT", now) == 90
    assert retry_after_seconds("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_to_one_host_are_spaced() -> None:
    """Three requests to one host start min_interval apart; another host is not delayed."""
    clock = FakeClock()
    scheduler = HostScheduler(concurrency=1, min_interval=2.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        with scheduler.request("http://a.example"):
            starts.append(clock.now)
    with scheduler.request("http://b.example"):
        starts.append(clock.now)
    assert starts == [0.0, 2.0, 4.0, 4.0]


def test_retry_after_blocks_the_host_then_fails_fast() -> None:
    """A short back-off is waited out; one longer than max_wait raises HostBusy at once."""
    clock = FakeClock()
    scheduler = HostScheduler(concurrency=2, min_interval=0, max_wait=30, clock=clock, sleep=clock.sleep)
    scheduler.back_off("http://a.example", 10)
    with scheduler.request("http://a.example"):
        assert clock.now == 10
    scheduler.back_off("http://a.example", 120)
    with pytest.raises(HostBusy, match="120 s"), scheduler.request("http://a.example"):
        pass


def test_host_concurrency_is_bounded() -> None:
    """No more than `concurrency` requests to one host are in flight together."""
    scheduler = HostScheduler(concurrency=2, min_interval=0)
    inside, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()

    def work() -> None:
        with scheduler.request("http://a.example"):
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            gate.wait(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_host_key() -> None:
    assert host_key("HTTPS://News.Example:8443/a?b") == "https://news.example:8443"
