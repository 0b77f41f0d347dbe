"""Processing throughput: newsmon's per-article processing against bare trafilatura, on the
181 pages of the article-extraction-benchmark in ``../shared``, in one process on one core.

No network: the pages are decompressed into memory before any timing. Per page, newsmon's
path is what ``pipeline.process_entries`` does once a page is fetched: ``extract_article``
(page meta tags for metadata, as when the feed gives title and date) -> ``detect_language``
(with the page's declared language) -> ``content_hash`` -> ``stories.fingerprint`` -> an
``ArticleCandidate`` (text_source ``page``) -> ``stories.store.load_articles`` (dedup, stories)
into PostgreSQL, in
batches of 100 with a commit per batch. The database is real: a fresh one, migrated, dropped
at the end. The reference is ``trafilatura.extract(html)`` with its defaults on the same pages,
in the same run: each batch of pages goes through newsmon, then through trafilatura, so a burst
of other work on the machine slows both alike.

The page set is processed ``--rounds`` times. Every round gets its own URLs and appends the
round number as a last line of each text, so every round inserts new articles (the benchmark
is of new articles, not of the duplicate path).

Target: newsmon pages/s >= 0.8 x trafilatura's. Exits 0 whatever the ratio (a measurement, not
a test). Run: ``python -m benchmarks.bench_processing [--rounds N] [--pages N] [--json]``
(``make bench``; ``--pages`` takes the first N pages only, for a quick check).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.eval_extraction import CORPUS_DIR, load_pages

TARGET_RATIO = 0.8
BATCH_SIZE = 100
CPU_SHARE_WARNING = 0.9
STAGES = ("extract", "language", "hash", "fingerprint", "load", "other")


@dataclass
class _Totals:
    """Seconds per newsmon stage and per extractor, and what the loads did."""

    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    newsmon_seconds: float = 0.0
    trafilatura_seconds: float = 0.0
    pages: int = 0
    no_article_text: int = 0
    dedup: dict[str, int] = field(default_factory=dict)
    rounds: list[dict[str, float]] = field(default_factory=list)


def _pin_to_one_cpu() -> int | None:
    """Keep this process on one CPU (PostgreSQL's own processes stay free); the CPU or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _newsmon_batch(conn: Any, batch: list[tuple[str, bytes]], round_no: int, totals: _Totals,
                   bar: Any) -> float:
    """newsmon's processing of one batch of pages, loaded and committed; returns its wall time."""
    from newsmon.articles import store as article_store
    from newsmon.articles.extraction import extract_article
    from newsmon.articles.hashing import content_hash
    from newsmon.articles.language import detect_language
    from newsmon.stories import store as story_store
    from newsmon.stories.neardup import fingerprint

    stages = totals.stages
    candidates: list[article_store.ArticleCandidate] = []
    now = datetime.now(UTC)
    started = time.perf_counter()
    for name, html in batch:
        url = f"https://bench.invalid/round-{round_no}/{name}"
        t0 = time.perf_counter()
        # as the pipeline does when the feed gives title and date (the usual case): page meta
        # tags instead of trafilatura's full metadata search
        extracted = extract_article(html, url, full_metadata=False)
        t1 = time.perf_counter()
        stages["extract"] += t1 - t0
        bar.update()
        if extracted is None:
            totals.no_article_text += 1
            continue
        text = f"{extracted.text}\n{round_no}"  # a new article each round, not a duplicate
        t1 = time.perf_counter()
        language = detect_language(text, extracted.language)
        t2 = time.perf_counter()
        text_hash = content_hash(text)
        t3 = time.perf_counter()
        signature = fingerprint(text)
        t3b = time.perf_counter()
        stages["language"] += t2 - t1
        stages["hash"] += t3 - t2
        stages["fingerprint"] += t3b - t3
        candidates.append(article_store.ArticleCandidate(
            canonical_url=url, url=url, source_id=None, title=extracted.title, text=text,
            author=extracted.author, language=language.language, language_prob=language.probability,
            language_method=language.method, published_at=extracted.published_at, fetched_at=now,
            content_hash=text_hash, text_source="page", extraction_status="ok", fingerprint=signature))
    t4 = time.perf_counter()
    outcomes = story_store.load_articles(conn, candidates)
    conn.commit()
    finished = time.perf_counter()
    stages["load"] += finished - t4
    for outcome in outcomes:
        totals.dedup[outcome.dedup] = totals.dedup.get(outcome.dedup, 0) + 1
    return finished - started


def _trafilatura_batch(batch: list[tuple[str, bytes]], bar: Any) -> float:
    """Bare ``trafilatura.extract`` with its defaults on the same pages; returns the wall time."""
    import trafilatura

    started = time.perf_counter()
    for _, html in batch:
        trafilatura.extract(html)
        bar.update()
    return time.perf_counter() - started


def _warm_up(conn: Any, html: bytes) -> None:
    """First calls load langdetect's profiles and trafilatura's caches: keep them out of timing."""
    import trafilatura

    from newsmon.articles import store as article_store
    from newsmon.articles.extraction import extract_article
    from newsmon.articles.hashing import content_hash
    from newsmon.articles.language import detect_language
    from newsmon.stories import store as story_store

    trafilatura.extract(html)
    extracted = extract_article(html, "https://bench.invalid/warm-up")
    if extracted is not None:
        language = detect_language(extracted.text, extracted.language)
        story_store.load_articles(conn, [article_store.ArticleCandidate(
            canonical_url="https://bench.invalid/warm-up", url="https://bench.invalid/warm-up",
            source_id=None, title=None, text=extracted.text, author=None, language=language.language,
            language_prob=language.probability, language_method=language.method, published_at=None,
            fetched_at=None, content_hash=content_hash(extracted.text), text_source="page",
            extraction_status="ok")])
    conn.rollback()


def run(pages: dict[str, bytes], server_url: str, *, rounds: int = 3, batch_size: int = BATCH_SIZE,
        progress: bool = True, pin: bool = True) -> dict[str, Any]:
    """Benchmark newsmon's processing against bare trafilatura; JSON-serializable result.

    With ``pin``, pins the calling process to one CPU (for good: this is meant to run as a
    script)."""
    import trafilatura
    from tqdm import tqdm

    from newsmon.core.db import connect, redact
    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate

    cpu = _pin_to_one_cpu() if pin else None
    items = list(pages.items())
    dbname = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    database_url = create_database(server_url, dbname)
    totals = _Totals()
    try:
        migrate(database_url)
        conn = connect(database_url, application_name="newsmon-bench")
        try:
            _warm_up(conn, next(iter(pages.values())))
            with tqdm(total=2 * rounds * len(pages), unit="page", file=sys.stderr,
                      disable=not progress) as bar:
                cpu_started, wall_started = time.process_time(), time.perf_counter()
                for round_no in range(1, rounds + 1):
                    bar.set_description(f"round {round_no}/{rounds}")
                    ours = bare = 0.0
                    for start in range(0, len(items), batch_size):
                        batch = items[start:start + batch_size]
                        ours += _newsmon_batch(conn, batch, round_no, totals, bar)
                        bare += _trafilatura_batch(batch, bar)
                    totals.newsmon_seconds += ours
                    totals.trafilatura_seconds += bare
                    totals.pages += len(items)
                    totals.rounds.append({"newsmon_pages_per_s": len(items) / ours,
                                          "trafilatura_pages_per_s": len(items) / bare})
                cpu_share = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM articles")
                rows = cur.fetchone()[0]
        finally:
            conn.close()
    finally:
        drop_database(server_url, dbname)

    ours_rate = totals.pages / totals.newsmon_seconds
    bare_rate = totals.pages / totals.trafilatura_seconds
    stage_ms = {stage: 1000 * seconds / totals.pages for stage, seconds in totals.stages.items()}
    stage_ms["other"] = 1000 * totals.newsmon_seconds / totals.pages - sum(stage_ms.values())
    ratio = ours_rate / bare_rate
    return {
        "pages": len(pages),
        "rounds": rounds,
        "batch_size": batch_size,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "server": redact(server_url),
        "trafilatura_version": trafilatura.__version__,
        "newsmon_pages_per_s": ours_rate,
        "trafilatura_pages_per_s": bare_rate,
        "newsmon_ms_per_page": 1000 / ours_rate,
        "trafilatura_ms_per_page": 1000 / bare_rate,
        "stage_ms_per_page": stage_ms,
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "passed": ratio >= TARGET_RATIO,
        "rows_inserted": rows,
        "dedup": totals.dedup,
        "no_article_text": totals.no_article_text,
        "per_round": totals.rounds,
        "cpu_share": cpu_share,
    }


def format_report(result: dict[str, Any]) -> str:
    stages = result["stage_ms_per_page"]
    where = f"pinned to CPU {result['cpu']} of {result['cpus']}" if result["cpu"] is not None else \
        f"{result['cpus']} CPUs, not pinned"
    per_round = ", ".join(f"{r['newsmon_pages_per_s']:.1f}/{r['trafilatura_pages_per_s']:.1f}"
                          for r in result["per_round"])
    dedup = ", ".join(f"{k} {v}" for k, v in sorted(result["dedup"].items())) or "none"

    def row(label: str, ms: float, rate: float | None = None) -> str:
        return f"{label:<36}{'' if rate is None else f'{rate:.1f}':>9}{ms:>9.2f}"

    lines = [
        f"processing throughput: {result['pages']} pages x {result['rounds']} rounds, one process "
        f"{where}, trafilatura {result['trafilatura_version']}, PostgreSQL {result['server']}",
        f"{'':36}{'pages/s':>9}{'ms/page':>9}",
        row("newsmon processing", result["newsmon_ms_per_page"], result["newsmon_pages_per_s"]),
        row("  extract_article", stages["extract"]),
        row("  detect_language", stages["language"]),
        row("  content_hash", stages["hash"]),
        row("  stories.fingerprint (MinHash)", stages["fingerprint"]),
        row(f"  load_articles + commit (per {result['batch_size']})", stages["load"]),
        row("  other (candidates, loop)", stages["other"]),
        row("trafilatura extract() defaults", result["trafilatura_ms_per_page"],
            result["trafilatura_pages_per_s"]),
        f"per round, newsmon/trafilatura pages/s: {per_round}",
        f"rows inserted: {result['rows_inserted']} (loads: {dedup}); pages without article text: "
        f"{result['no_article_text']}",
        f"ratio newsmon / trafilatura: {result['ratio']:.2f}   target ratio >= {result['target_ratio']}: "
        f"{'PASS' if result['passed'] else 'FAIL'}",
    ]
    lines.append(f"this process had its CPU {result['cpu_share']:.0%} of the time (the rest: waiting "
                 "for PostgreSQL, or other processes on the same CPU)")
    if result["cpu_share"] < CPU_SHARE_WARNING:
        lines.append("note: other processes competed for this CPU: the absolute figures are low; the "
                     "ratio less so (newsmon and trafilatura alternate batch by batch)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_processing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times the page set is processed (%(default)s)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="articles per load (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR,
                        help="benchmark folder (default: %(default)s)")
    parser.add_argument("--pages", type=int, default=None,
                        help="process only the first N pages (default: all; a small N is a quick check)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin this process to one CPU (when it is not a script of its own)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch_size < 1 or (args.pages is not None and args.pages < 1):
        parser.error("--rounds, --batch-size and --pages must be at least 1")
    if not (args.corpus / "html").is_dir():
        reason = f"{args.corpus} not found (../shared exists only beside developers' checkouts)"
        print(json.dumps({"skipped": reason}) if args.json else f"skipped: {reason}")
        return 0

    import psycopg2

    from newsmon.operations.localdb import find_server

    pages = load_pages(args.corpus)
    if args.pages is not None:
        pages = dict(list(pages.items())[:args.pages])
    try:
        server_url = find_server()
    except (RuntimeError, OSError, psycopg2.Error) as exc:
        print(f"error: the benchmark needs PostgreSQL and none is available: {exc}", file=sys.stderr)
        return 2
    result = run(pages, server_url, rounds=args.rounds, batch_size=args.batch_size, pin=not args.no_pin)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
