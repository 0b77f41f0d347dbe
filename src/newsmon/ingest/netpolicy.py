"""Network policy for outgoing requests: which addresses may be contacted (SSRF guard) and how
hard one host may be hit (per-host concurrency and spacing, Retry-After).

Pure policy plus an in-process host scheduler; the HTTP client in ``downloads`` applies both
to every request, including each redirect target.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


AllowPrivate = bool | tuple[str, ...]
"""A source's ``allow_private``: false, true (any private address), or a list of addresses and
networks (e.g. ``[127.0.0.1]``) that may be contacted even though private."""


def refusal_reason(url: str, *, allow_private: AllowPrivate = False,
                   resolver: Resolver = system_resolver) -> str | None:
    """Why ``url`` must not be fetched, or None when it may be.

    Refused unless ``allow_private``: hosts resolving to loopback, private, link-local (which
    includes the 169.254.169.254 cloud metadata service), multicast, reserved or unspecified
    addresses, and well-known metadata host names. A name that does not resolve is not refused
    here: the fetch then fails with a DNS error, recorded as such.
    """
    return checked_addresses(url, allow_private=allow_private, resolver=resolver)[0]


def checked_addresses(url: str, *, allow_private: AllowPrivate = False,
                      resolver: Resolver = system_resolver) -> tuple[str | None, list[str] | None]:
    """(refusal reason or None, the addresses the check approved). The HTTP client connects to
    those very addresses (``downloads``), never resolving the name again: a DNS answer that
    changes between the check and the connection (rebinding) cannot reach a private address.
    Addresses are None when nothing was resolved: ``allow_private: true`` (anything goes), or a
    name that does not resolve (the connection then fails with a DNS error)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused URL scheme {parts.scheme!r} (only http and https)", None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "URL has no host", None
    if allow_private is True:
        return None, None
    allowed = [ipaddress.ip_network(n, strict=False) for n in allow_private or ()]
    if host in METADATA_HOSTS or host.endswith(".internal"):
        return f"refused host {host!r}: cloud metadata / internal name", None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"invalid port in {url[:200]!r}", None
    try:
        addresses = [host.strip("[]")] if _is_ip(host) else resolver(host, port)
    except OSError:
        return None, None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in network for network in allowed):
            continue
        if (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)):
            return (f"refused: {host} resolves to {ip}, a private/loopback/link-local address "
                    "(list it in the source's allow_private to permit it)"), None
    return None, list(addresses)


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent
    or unparsable. Never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HostBusy(Exception):
    """A host asked (Retry-After) not to be contacted for longer than we are willing to wait."""

    def __init__(self, host: str, seconds: float) -> None:
        super().__init__(f"{host} asked not to be contacted for another {seconds:.0f} s (Retry-After)")
        self.host = host
        self.seconds = seconds


class HostScheduler:
    """Per-host politeness within one process: at most ``concurrency`` requests in flight to a
    host, starts spaced by ``min_interval`` seconds, and a host told to wait (Retry-After) is
    not contacted before then. Thread-safe."""

    def __init__(self, concurrency: int = 2, min_interval: float = 1.0, max_wait: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.concurrency = concurrency
        self.min_interval = min_interval
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    def _slot(self, host: str) -> threading.Semaphore:
        with self._lock:
            return self._slots.setdefault(host, threading.Semaphore(self.concurrency))

    @contextmanager
    def request(self, host: str) -> Iterator[None]:
        """Hold a slot for one request to ``host``, waiting for its turn. A host that asked
        for a pause longer than ``max_wait`` is not waited for: HostBusy is raised."""
        slot = self._slot(host)
        slot.acquire()
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    start = self._next_start.get(host, now)
                    if start <= now:
                        self._next_start[host] = now + self.min_interval
                        break
                if start - now > self.max_wait:
                    raise HostBusy(host, start - now)
                self._sleep(min(start - now, 5.0))
            yield
        finally:
            slot.release()

    def back_off(self, host: str, seconds: float) -> None:
        """Do not start another request to ``host`` for ``seconds``."""
        with self._lock:
            until = self._clock() + seconds
            self._next_start[host] = max(self._next_start.get(host, 0.0), until)


def host_key(url: str) -> str:
    """scheme://host[:port], the unit of politeness and of robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
