"""HTTP edge: the only module that talks to the network.

Timeouts, a User-Agent, a cap on the decompressed body, gzip, conditional GET and redirects
handled one by one (so each target is checked). Failures raise :class:`FetchError`, marked
transient (retry later) or permanent (record and move on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from newsmon.core.config import Settings
from newsmon.core.errors import FetchError
from newsmon.ingest.netpolicy import (
    AllowPrivate,
    HostBusy,
    HostScheduler,
    Resolver,
    checked_addresses,
    host_key,
    retry_after_seconds,
    system_resolver,
)

log = logging.getLogger(__name__)
_REDIRECTS = {301, 302, 303, 307, 308}
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass(frozen=True)
class FetchResult:
    """A completed HTTP exchange (2xx or 304)."""

    url: str  # final URL after redirects
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class PinnedBackend(httpcore.SyncBackend):
    """Connects to the addresses the SSRF guard approved for the request this thread is making,
    never resolving the host name again (the TLS handshake and the Host header still use the
    name from the URL: httpcore passes it as the SNI/verification name). Hosts the guard did not
    resolve (``allow_private: true``, or a name that does not resolve) connect as usual."""

    def __init__(self) -> None:
        self._local = threading.local()

    def pin(self, url: str, addresses: list[str] | None) -> None:
        """The addresses approved for ``url``'s host, for the next connection this thread opens."""
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        self._local.pins = {host: addresses}

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        pins = getattr(self._local, "pins", {})
        key = host.rstrip(".").lower().strip("[]")
        if key not in pins:
            raise httpcore.ConnectError(f"{host}: connection not checked by the SSRF guard")
        addresses = pins[key]
        if addresses is None:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        error: Exception = httpcore.ConnectError(f"{host}: no address to connect to")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error


class Fetcher:
    """A reusable, thread-safe HTTP client configured from :class:`Settings`, polite per host
    (see :class:`~newsmon.ingest.netpolicy.HostScheduler`) and guarded against SSRF."""

    def __init__(self, settings: Settings, scheduler: HostScheduler | None = None,
                 resolver: Resolver = system_resolver) -> None:
        self.settings = settings
        self.scheduler = scheduler or HostScheduler(settings.host_concurrency, settings.host_min_interval,
                                                    max_wait=settings.max_retry_after)
        self._resolver = resolver
        limits = httpx.Limits(max_connections=max(4, settings.fetch_concurrency * 2))
        transport = httpx.HTTPTransport(limits=limits, trust_env=False)
        self._backend = PinnedBackend()
        transport._pool = httpcore.ConnectionPool(  # httpx's own pool, with our network backend
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self._backend,
        )
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=max(4, settings.fetch_concurrency * 2)),
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = "*/*", allow_private: AllowPrivate = False) -> FetchResult:
        """GET ``url``, following up to ``max_redirects`` redirects (each target checked by the
        SSRF guard unless ``allow_private``); conditional when validators are given. A 429/503
        with a short Retry-After is waited out once. Raises FetchError on any failure."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if not current.lower().startswith(("http://", "https://")):
                raise FetchError(f"refused URL scheme (only http and https): {current[:200]}",
                                 transient=False, kind="policy")
            try:
                reason, addresses = checked_addresses(current, allow_private=allow_private,
                                                      resolver=self._resolver)
            except ValueError as exc:  # an allow_private entry that is not an address/network
                raise FetchError(f"allow_private: {exc}", transient=False, kind="policy") from None
            if reason:
                hop = f" (redirect target of {url})" if current != url else ""
                raise FetchError(reason + hop, transient=False, kind="policy")
            if current in seen:
                raise FetchError(f"redirect loop: {' -> '.join([*seen, current])[:500]}",
                                 transient=False)
            seen.append(current)
            self._backend.pin(current, addresses)
            result = self._polite_get(current, headers)
            if isinstance(result, FetchResult):
                return result
            current = result  # a redirect target
        raise FetchError(f"too many redirects (more than {self.settings.max_redirects}) from {url}",
                         transient=False)

    def _polite_get(self, url: str, headers: dict[str, str]) -> FetchResult | str:
        """One request in its host's turn; a short Retry-After on 429/503 is waited out once."""
        host = host_key(url)
        for attempt in (1, 2):
            try:
                with self.scheduler.request(host):
                    return self._get_once(url, headers)
            except HostBusy as busy:
                raise FetchError(str(busy), transient=True, kind="soft", retry_after=busy.seconds) from None
            except FetchError as exc:
                if exc.retry_after is None:
                    raise
                self.scheduler.back_off(host, exc.retry_after)
                if attempt == 2 or exc.retry_after > self.settings.max_retry_after:
                    raise
                log.info("%s asked to wait %.0f s (Retry-After); waiting once", host, exc.retry_after)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _get_once(self, url: str, headers: dict[str, str]) -> FetchResult | str:
        cap = self.settings.max_body_bytes
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"HTTP {status} redirect without a Location header",
                                         transient=False, status=status)
                    return urljoin(url, location)
                if status == 304:
                    return FetchResult(url=url, status=304, headers=_lower(response.headers))
                if status >= 400:
                    raise _status_error(status, response.headers.get("retry-after"))
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(f"response too large: Content-Length {declared} bytes exceeds "
                                     f"the {cap}-byte limit", transient=False, status=status, kind="policy")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():  # decompressed: the cap also stops gzip bombs
                    size += len(chunk)
                    if size > cap:
                        raise FetchError(f"response too large: more than {cap} bytes (after "
                                         "decompression); download abandoned",
                                         transient=False, status=status, kind="policy")
                    chunks.append(chunk)
                return FetchResult(url=url, status=status, body=b"".join(chunks),
                                   headers=_lower(response.headers))
        except FetchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__}) fetching {url}", transient=True) from None
        except httpx.DecodingError as exc:
            raise FetchError(f"could not decode the response body: {exc}", transient=False) from None
        except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            message = str(exc) or type(exc).__name__
            lowered = message.lower()
            if any(m in lowered for m in _DNS_FAILURES):
                raise FetchError(f"DNS lookup failed: {message}", transient=True, kind="hard") from None
            if "refused" in lowered:
                raise FetchError(f"connection refused: {message}", transient=True, kind="hard") from None
            transient = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
            raise FetchError(f"connection failed: {message}", transient=transient,
                             kind="soft" if transient else "hard") from None


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _status_error(status: int, retry_after: str | None) -> FetchError:
    transient = status in _TRANSIENT_STATUS or status >= 500
    message = f"HTTP {status}"
    if retry_after:
        message += f" (Retry-After: {retry_after})"
    wait = retry_after_seconds(retry_after) if status in (429, 503) else None
    return FetchError(message, transient=transient, status=status, kind="soft" if transient else "hard",
                      retry_after=wait)


_DNS_FAILURES = ("name or service not known", "temporary failure in name resolution",
                 "nodename nor servname", "no address associated", "name resolution")
