"""End-to-end ingest throughput per worker: the news_ingest stages on N generated articles served
over loopback HTTP, run by one worker process, then by two in parallel.

Pages: the 181 real news pages of ``../shared/corpus/article-extraction-benchmark`` (about 170 KB
of HTML each) when present, else the 35 article pages of the bundled sample site
(``samples/site``, about 8 KB each: a much lighter, optimistic workload; the report says which).
Article ``i`` is page ``i mod T`` with the words of every text node shuffled (seeded by ``i``):
the HTML structure, sizes and languages stay those of the real page, but every article is a
new story (shuffled 5-word shingles share nothing), so this measures new articles, not the
duplicate path. The bodies are generated and gzipped before any timing; ``--feeds`` RSS feeds
(title, link, date and a short summary per item, as agencies publish them) and the pages are
served from ``--hosts`` loopback addresses (127.0.1.x), gzip-encoded. Politeness is the
default except host pacing (``host_min_interval=0``): on loopback there is no network time, so
the figures are the CPU cost of ingest, the ceiling a worker reaches when fetching does not wait.

Each phase gets a fresh, migrated database and runs what ``dags/news_ingest.py`` runs, with the
same package functions in the same order: ``start_run``, ``sync_sources``, ``poll_source`` per
feed, ``plan_batches``, ``process_entries`` per batch of ``NEWSMON_BATCH_SIZE`` (100),
``tag_stage`` per tag shard (as many shards as workers, as ``NEWSMON_TAG_SHARDS`` does in the
DAG), ``finish_run``. A coordinator (the scheduler) hands the poll, batch and tag tasks to a
shared queue; ``--workers`` processes (spawned) take them as Airflow workers would. Each
process warms up before timing (language profiles, gazetteer, topics, spaCy model): that
one-off cost, which every Airflow task process pays, is reported apart (Airflow's own per-task
overhead is not measured). Reported per phase: articles loaded, wall seconds per stage, the
``stage_seconds`` the run recorded in ``pipeline_runs.details``, worker CPU seconds, and
articles/hour end to end and for processing alone, in total and per worker.

    python -m benchmarks.bench_pipeline [--articles 1500] [--workers 1,2] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import os
import queue
import random
import re
import sys
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape, unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_TEXT_NODE = re.compile(r">([^<]+)<")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.S | re.I)


# -- pages ---------------------------------------------------------------------------------------

def load_templates(corpus: Path | None) -> tuple[str, list[tuple[str, str]]]:
    """(which corpus, [(title, html)]): the extraction benchmark's pages, else the sample site's."""
    from benchmarks.eval_extraction import CORPUS_DIR, load_pages

    corpus = corpus or CORPUS_DIR
    if (corpus / "html").is_dir():
        pages = list(load_pages(corpus).values())
        label = f"{len(pages)} pages of {corpus.name} (../shared)"
    else:
        site = ROOT / "samples" / "site"
        paths = sorted(p for sub in ("en", "fr", "partner") for p in (site / sub).rglob("*.html"))
        pages = [p.read_bytes().replace(b"{{BASE_URL}}", b"https://samples.invalid") for p in paths]
        label = f"{len(pages)} pages of samples/site (../shared absent: small pages, optimistic)"
    templates = []
    for html in pages:
        found = _TITLE.search(html)
        title = unescape(found.group(1).decode("utf-8", "replace")).strip() if found else ""
        templates.append((re.sub(r"\s+", " ", title)[:200] or "Untitled", html.decode("utf-8", "replace")))
    return label, templates


def _split(html: str) -> list[str | list[str]]:
    """The page as static pieces and word lists (the text nodes), to shuffle cheaply."""
    parts: list[str | list[str]] = []
    last = 0
    for match in _TEXT_NODE.finditer(html):
        text = match.group(1)
        words = text.split()
        if len(words) < 2:
            continue
        lead = text[:len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        parts.append(html[last:match.start(1)] + lead)
        parts.append(words)
        last = match.end(1) - len(trail)
    parts.append(html[last:])
    return parts


def make_pages(templates: list[tuple[str, str]], count: int) -> list[tuple[str, bytes]]:
    """``count`` (title, gzipped body): page ``i mod T`` with each text node's words shuffled."""
    split = [_split(html) for _, html in templates]
    pages = []
    for i in range(count):
        rng = random.Random(i)
        out = []
        for part in split[i % len(split)]:
            if isinstance(part, list):
                words = part[:]
                rng.shuffle(words)
                out.append(" ".join(words))
            else:
                out.append(part)
        pages.append((templates[i % len(templates)][0], gzip.compress("".join(out).encode(), 5)))
    return pages


class Site:
    """Feeds and article pages on ``hosts`` loopback addresses; article ``i`` on host ``i mod hosts``,
    feed ``f`` (articles ``f``, ``f + feeds``, ...) on host ``f mod hosts``."""

    def __init__(self, pages: list[tuple[str, bytes]], feeds: int, hosts: int) -> None:
        self.pages, self.feeds, self.hosts = pages, feeds, hosts
        self.requests = 0
        self._lock = threading.Lock()
        self.servers: list[ThreadingHTTPServer] = []
        self.base: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        for h in range(hosts):
            server = ThreadingHTTPServer((f"127.0.1.{h + 1}", 0), Handler)
            server.daemon_threads = True
            self.servers.append(server)
            self.base.append(f"http://127.0.1.{h + 1}:{server.server_address[1]}")
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.now = datetime.now(UTC)

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def feed_url(self, f: int) -> str:
        return f"{self.base[f % self.hosts]}/feed/{f}.xml"

    def _feed(self, f: int) -> bytes:
        items = []
        for i in range(f, len(self.pages), self.feeds):
            title = escape(f"{self.pages[i][0]} ({i})")
            link = f"{self.base[i % self.hosts]}/a/{i}.html"
            when = format_datetime(self.now - timedelta(minutes=i))
            items.append(f"<item><title>{title}</title><link>{link}</link><guid>a{i}</guid>"
                         f"<pubDate>{when}</pubDate><description>{title}: the summary the feed carries, "
                         "a sentence or two.</description></item>")
        return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Bench feed {f}"
                f"</title><link>{self.base[f % self.hosts]}/</link>{''.join(items)}</channel></rss>").encode()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
        path = h.path.split("?", 1)[0]
        headers = {}
        if path == "/robots.txt":
            body, ctype = b"User-agent: *\nDisallow:\n", "text/plain"
        elif m := re.fullmatch(r"/feed/(\d+)\.xml", path):
            body, ctype = self._feed(int(m.group(1))), "application/rss+xml; charset=utf-8"
        elif (m := re.fullmatch(r"/a/(\d+)\.html", path)) and int(m.group(1)) < len(self.pages):
            body, ctype = self.pages[int(m.group(1))][1], "text/html; charset=utf-8"
            if "gzip" in (h.headers.get("Accept-Encoding") or ""):
                headers["Content-Encoding"] = "gzip"
            else:
                body = gzip.decompress(body)
        else:
            body, ctype = b"not found", "text/plain"
            h.send_response(404)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)


# -- workers -------------------------------------------------------------------------------------

def _settings(dsn: str) -> Any:
    from newsmon.core.config import Settings

    return Settings(database_url=dsn, host_min_interval=0.0)


def _worker(dsn: str, tasks: Any, results: Any) -> None:
    """One worker process: warm up, then run tasks from the queue until ``None``."""
    import logging

    from newsmon.articles.language import detect_language
    from newsmon.pipeline.tasks import poll_source, process_entries, tag_stage

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(dsn)
    # What every task process pays once, kept out of the timed run and reported apart: language
    # profiles, and for tagging the gazetteer, the topics and the spaCy model (an empty tag run
    # on the still empty database, and the French NER model; both cached per process).
    started = time.perf_counter()
    detect_language("A short English sentence to load the language profiles before timing.", None)
    tag_stage(settings)
    if settings.ner == "auto":
        from newsmon.tagging.entities import _ner_model

        _ner_model("fr")
    results.put(("ready", os.getpid(), None, time.perf_counter() - started))
    while (task := tasks.get()) is not None:
        kind, arg = task
        cpu = time.process_time()
        try:
            if kind == "poll":
                out: Any = asdict(poll_source(settings, arg, force=True))
            elif kind == "process":
                out = asdict(process_entries(settings, arg))
            else:
                out = tag_stage(settings, shard=arg)
        except Exception:  # reported to the coordinator, which stops the benchmark
            import traceback

            results.put(("error", os.getpid(), f"{kind} {arg!r}: {traceback.format_exc()}", 0.0))
            continue
        results.put((kind, os.getpid(), out, time.process_time() - cpu))


def _collect(results: Any, count: int, kind: str, cpu: dict[str, float], procs: list[Any]) -> list[Any]:
    """``count`` results of ``kind``; a task's error or a worker's death stops the benchmark."""
    outs = []
    deadline = time.monotonic() + 900
    while len(outs) < count:
        try:
            got, _pid, out, seconds = results.get(timeout=5)
        except queue.Empty:
            dead = [p.exitcode for p in procs if not p.is_alive()]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"waiting for {kind} results: worker exit codes {dead}, "
                                   f"{len(outs)}/{count} received") from None
            continue
        if got == "error":
            raise RuntimeError(f"a worker task failed: {out}")
        if got != kind:
            raise RuntimeError(f"expected a {kind} result, got {got}")
        cpu[kind] = cpu.get(kind, 0.0) + seconds
        outs.append(out)
    return outs


def run_phase(server_url: str, site: Site, workers: int) -> dict[str, Any]:
    """One news_ingest run over the whole site with ``workers`` worker processes."""
    import psycopg2

    from newsmon.core.config import FeedConfig
    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate
    from newsmon.pipeline.tasks import finish_run, plan_batches, start_run, sync_sources

    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    dsn = create_database(server_url, name)
    ctx = mp.get_context("spawn")
    tasks, results = ctx.Queue(), ctx.Queue()
    procs: list[Any] = []
    try:
        migrate(dsn)
        settings = _settings(dsn)
        procs = [ctx.Process(target=_worker, args=(dsn, tasks, results), daemon=True) for _ in range(workers)]
        for proc in procs:
            proc.start()
        warm_up = [results.get(timeout=300)[3] for _ in procs]
        feeds = [FeedConfig(name=f"bench-{f:03d}", url=site.feed_url(f), kind="rss",
                            allow_private=("127.0.0.0/8",)) for f in range(site.feeds)]
        load_before = os.getloadavg()[0]
        cpu: dict[str, float] = {}
        wall: dict[str, float] = {}
        run_id = f"bench__{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        start_run(settings, "news_ingest", run_id)
        names = sync_sources(settings, feeds)
        for n in names:
            tasks.put(("poll", n))
        polls = _collect(results, len(names), "poll", cpu, procs)
        t_poll = time.perf_counter()
        batches_planned = plan_batches(settings)
        for ids in batches_planned:
            tasks.put(("process", ids))
        batches = _collect(results, len(batches_planned), "process", cpu, procs)
        t_process = time.perf_counter()
        for i in range(workers):  # one tag shard per worker, as with NEWSMON_TAG_SHARDS = workers
            tasks.put(("tag", [i, workers]))
        tagged = _collect(results, workers, "tag", cpu, procs)
        t_tag = time.perf_counter()
        counts = finish_run(settings, "news_ingest", run_id, polls, batches, tagged=tagged)
        finished = time.perf_counter()
        wall = {"poll": t_poll - started, "process": t_process - t_poll, "tag": t_tag - t_process,
                "total": finished - started}
        load_after = os.getloadavg()[0]
        conn = psycopg2.connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT details -> 'stage_seconds', articles_new, articles_tagged "
                            "FROM pipeline_runs WHERE run_id = %s", (run_id,))
                stage_seconds, articles_new, articles_tagged = cur.fetchone()
                cur.execute("SELECT count(*), count(*) FILTER (WHERE text_source = 'page'), "
                            "count(DISTINCT story_id) FROM articles")
                stored, from_page, stories = cur.fetchone()
        finally:
            conn.close()
    finally:
        for _ in procs:
            tasks.put(None)
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        drop_database(server_url, name)
    per_hour = 3600 * articles_new / wall["total"]
    process_per_hour = 3600 * articles_new / wall["process"]
    return {
        "workers": workers,
        "tag_shards": workers,
        "feeds": len(names),
        "batches": len(batches_planned),
        "articles_new": articles_new,
        "articles_stored": stored,
        "articles_from_page": from_page,
        "stories": stories,
        "articles_tagged": articles_tagged,
        "fetch_failures": counts["fetch_failures"],
        "wall_seconds": {k: round(v, 2) for k, v in wall.items()},
        "stage_seconds_recorded": stage_seconds,
        "worker_cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "articles_per_hour_total": round(per_hour),
        "articles_per_hour_per_worker": round(per_hour / workers),
        "process_articles_per_hour_total": round(process_per_hour),
        "process_articles_per_hour_per_worker": round(process_per_hour / workers),
        "ms_per_article": {k: round(1000 * v / max(articles_new, 1), 2) for k, v in wall.items()},
        "load_average_before_after": [round(load_before, 2), round(load_after, 2)],
        "warm_up_seconds_per_process": round(max(warm_up), 2),
    }


def run(server_url: str, articles: int, workers: list[int], feeds: int, hosts: int,
        corpus: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Generate and serve the site, then one phase per worker count; JSON-serializable result."""
    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    label, templates = load_templates(corpus)
    t0 = time.perf_counter()
    pages = make_pages(templates, articles)
    say(f"{articles} pages generated from {label} in {time.perf_counter() - t0:.1f} s")
    site = Site(pages, min(feeds, articles), hosts)
    phases = []
    try:
        for count in workers:
            say(f"news_ingest with {count} worker process(es) ...")
            phases.append(run_phase(server_url, site, count))
            say(f"  {phases[-1]['articles_new']} articles in {phases[-1]['wall_seconds']['total']} s")
    finally:
        site.close()
    sample = pages[:len(templates)]
    raw = sum(len(gzip.decompress(body)) for _, body in sample) / len(sample)
    result: dict[str, Any] = {
        "articles": articles, "corpus": label, "mean_page_kb": round(raw / 1024, 1),
        "feeds": site.feeds, "hosts": hosts, "cpus": os.cpu_count(), "host_min_interval": 0.0,
        "phases": phases,
    }
    if len(phases) > 1 and phases[0]["workers"] == 1:
        result["scaling"] = {str(p["workers"]): round(p["articles_per_hour_total"]
                                                      / phases[0]["articles_per_hour_total"], 2)
                             for p in phases}
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [f"news_ingest end to end: {result['articles']} new articles from {result['corpus']} "
             f"(mean {result['mean_page_kb']} KB of HTML), {result['feeds']} RSS feeds on {result['hosts']} "
             f"loopback hosts, host pacing off, {result['cpus']} CPUs",
             f"{'workers':>7} {'articles':>8} {'poll s':>7} {'process s':>9} {'tag s':>7} {'total s':>8} "
             f"{'art/h total':>12} {'art/h/worker':>13} {'process art/h/worker':>21}  load before/after"]
    for p in result["phases"]:
        w = p["wall_seconds"]
        lines.append(f"{p['workers']:>7} {p['articles_new']:>8} {w['poll']:>7.1f} {w['process']:>9.1f} "
                     f"{w['tag']:>7.1f} {w['total']:>8.1f} {p['articles_per_hour_total']:>12,} "
                     f"{p['articles_per_hour_per_worker']:>13,} "
                     f"{p['process_articles_per_hour_per_worker']:>21,}"
                     f"  {p['load_average_before_after'][0]}/{p['load_average_before_after'][1]}")
    lines.append("per article (wall ms): " + "; ".join(
        f"{p['workers']} worker(s): " + ", ".join(f"{k} {v}" for k, v in p["ms_per_article"].items())
        for p in result["phases"]))
    for p in result["phases"]:
        lines.append(f"{p['workers']} worker(s), {p['tag_shards']} tag shard(s): stage_seconds recorded "
                     f"{p['stage_seconds_recorded']}; "
                     f"worker CPU s {p['worker_cpu_seconds']}; {p['articles_from_page']} from page text, "
                     f"{p['stories']} stories, {p['articles_tagged']} tagged, "
                     f"{p['fetch_failures']} fetch failures; warm-up per process (not timed) "
                     f"{p['warm_up_seconds_per_process']} s")
    if "scaling" in result:
        lines.append("total throughput relative to 1 worker: "
                     + ", ".join(f"{k} workers x{v}" for k, v in result["scaling"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pipeline",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1500, help="new articles per phase (%(default)s)")
    parser.add_argument("--workers", default="1,2", help="worker counts, one phase each (%(default)s)")
    parser.add_argument("--feeds", type=int, default=20, help="RSS feeds (%(default)s)")
    parser.add_argument("--hosts", type=int, default=8, help="loopback hosts (%(default)s)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="extraction benchmark folder "
                             "(default: ../shared/corpus/article-extraction-benchmark)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    try:
        workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers: comma-separated integers")
    if args.articles < 1 or args.feeds < 1 or not 1 <= args.hosts <= 250 or min(workers) < 1:
        parser.error("--articles, --feeds, --workers >= 1; --hosts 1-250")

    from benchmarks import server_or_none

    server_url = server_or_none()
    if server_url is None:
        return 2
    result = run(server_url, args.articles, workers, args.feeds, args.hosts, args.corpus,
                 progress=not args.json)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
