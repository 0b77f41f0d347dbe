"""Polling 1,000 feeds of 50 items served from loopback, twice: wall time and requests/s.

Feeds are spread over 100 loopback hosts (127.0.1.1 ... 127.0.1.100, 10 feeds each), so the
per-host politeness (NEWSMON_HOST_MIN_INTERVAL, default 1 s between requests to a host) applies
as it would on real sites. The first poll fetches and parses everything and queues 50,000
entries; before the second poll 10 % of the feeds change (new items, new ETag) and the rest
answer 304 Not Modified. Target: the second poll under 60 s on 2 cores.

    python -m benchmarks.bench_polling [--feeds 1000] [--items 50] [--hosts 100] [--workers 16] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FeedFarm:
    """``hosts`` HTTP servers on distinct loopback addresses serving generated RSS feeds."""

    def __init__(self, feeds: int, items: int, hosts: int) -> None:
        self.items = items
        self.version = [0] * feeds
        self.requests = 0
        self._lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        farm = self
        per_host = -(-feeds // hosts)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                farm._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.urls: list[str] = []
        for h in range(hosts):
            server = ThreadingHTTPServer((f"127.0.1.{h + 1}", 0), Handler)
            server.daemon_threads = True
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            for k in range(per_host):
                index = h * per_host + k
                if index < feeds:
                    self.urls.append(f"http://127.0.1.{h + 1}:{server.server_address[1]}/feed/{index}.xml")

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def _body(self, index: int) -> bytes:
        version = self.version[index]
        base = datetime(2026, 11, 25, tzinfo=UTC)
        items = []
        for i in range(self.items):
            n = version * self.items + i  # a new version brings new items
            when = format_datetime(base - timedelta(minutes=7 * n + index))
            items.append(f"<item><title>Feed {index} story {n}</title>"
                         f"<link>https://news{index}.invalid/story/{n}.html</link><guid>f{index}-s{n}</guid>"
                         f"<pubDate>{when}</pubDate><description>Summary of story {n} of feed {index}, "
                         f"a short paragraph as agencies put in their feeds.</description></item>")
        return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Feed {index}"
                f"</title><language>en</language>{''.join(items)}</channel></rss>").encode()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
        index = int(h.path.rsplit("/", 1)[1].split(".")[0])
        etag = f'"v{self.version[index]}"'
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = self._body(index)
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("ETag", etag)
        h.end_headers()
        h.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--workers", type=int, default=16, help="feeds polled in parallel")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from newsmon.core.config import FeedConfig, Settings
    from newsmon.ingest.downloads import Fetcher
    from newsmon.operations.localdb import create_database, drop_database, find_server
    from newsmon.operations.migrate import migrate
    from newsmon.pipeline.tasks import poll_source, summarize, sync_sources

    server = find_server()
    name = f"newsmon_bench_{uuid.uuid4().hex[:8]}"
    dsn = create_database(server, name)
    farm = FeedFarm(args.feeds, args.items, args.hosts)
    results = []
    try:
        migrate(dsn)
        settings = Settings(database_url=dsn, fetch_concurrency=args.workers)
        feeds = [FeedConfig(name=f"bench-{i:04d}", url=url, allow_private=("127.0.0.0/8",), fetch_pages=False)
                 for i, url in enumerate(farm.urls)]
        names = sync_sources(settings, feeds)
        with Fetcher(settings) as fetcher:
            for label in ("first poll", "second poll (10% changed)"):
                if results:
                    for i in range(0, args.feeds, 10):
                        farm.version[i] += 1
                before = farm.requests
                started = time.perf_counter()
                def poll(source: str) -> object:
                    return poll_source(settings, source, fetcher, force=True)

                with ThreadPoolExecutor(max_workers=args.workers) as pool:
                    polls = list(tqdm(pool.map(poll, names), total=len(names), desc=label, unit="feed",
                                      file=sys.stderr))
                wall = time.perf_counter() - started
                counts = summarize(polls, [])
                requests = farm.requests - before
                results.append({"poll": label, "seconds": round(wall, 1), "requests": requests,
                                "requests_per_s": round(requests / wall, 1),
                                "not_modified": counts["feeds_not_modified"],
                                "failed": counts["feeds_failed"],
                                "entries_new": counts["entries_new"]})
    finally:
        farm.close()
        drop_database(server, name)
    summary = {"feeds": args.feeds, "items": args.items, "hosts": args.hosts, "workers": args.workers,
               "host_min_interval_s": Settings().host_min_interval, "results": results,
               "target_second_poll_s": 60}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"polling {args.feeds} feeds x {args.items} items on {args.hosts} loopback hosts, "
          f"{args.workers} workers, {Settings().host_min_interval:g} s between requests to a host:")
    for r in results:
        print(f"  {r['poll']:28s} {r['seconds']:6.1f} s  {r['requests']:5d} requests  "
              f"{r['requests_per_s']:6.1f} req/s  304: {r['not_modified']:4d}  failed: {r['failed']}  "
              f"new entries: {r['entries_new']}")
    second = results[-1]["seconds"]
    print(f"second poll {second:.1f} s (target < 60 s: {'PASS' if second < 60 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
