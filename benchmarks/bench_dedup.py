"""Dedup cost per new article against 10 thousand and 1 million stored fingerprints.

Fills a fresh PostgreSQL database with synthetic stored articles (random MinHash signatures,
their LSH band keys in the GIN-indexed array, as the pipeline stores them), then loads new
realistic articles through ``stories.store.load_articles`` (exact-hash check, LSH lookup, same-story
decision, insert, fingerprint, story) and reports the time per new article at each size, their
ratio (target < 1.5: the lookup must not grow with the corpus) and the worker's peak memory.

    python -m benchmarks.bench_dedup [--sizes 10000,1000000] [--articles 300] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _texts(count: int, seed: int, words: int = 450) -> list[str]:
    """New, unrelated articles of about ``words`` words: random sequences over the vocabulary of
    the dedup evaluation documents (real word frequencies, no shared runs of five words), so each
    is a new story, as most incoming articles are. (Recombined sentences would make every
    article a near-duplicate of earlier ones and measure the bench, not the lookup.)"""
    docs = yaml.safe_load((ROOT / "eval" / "dedup" / "documents.yml").read_text())["documents"]
    vocabulary = [w for d in docs for w in d["text"].split()]
    rng = random.Random(seed)
    return [" ".join(rng.choices(vocabulary, k=words)) for _ in range(count)]


def _fill_in_child(dsn: str, start: int, stop: int, seed: int) -> None:
    """Run :func:`_fill` in a child process: the bulk load's memory is not the worker's."""
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_fill_dsn, args=(dsn, start, stop, seed))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"filling the benchmark database failed (exit {child.exitcode})")


def _fill_dsn(dsn: str, start: int, stop: int, seed: int) -> None:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        _fill(conn, start, stop, np.random.default_rng(seed))
    finally:
        conn.close()


def _fill(conn, start: int, stop: int, rng: np.random.Generator) -> None:
    """COPY synthetic articles and fingerprints with ids start..stop-1."""
    from newsmon.stories.neardup import NUM_PERM, Fingerprint

    chunk = 20_000
    for lo in range(start, stop, chunk):
        hi = min(stop, lo + chunk)
        articles, prints, bands = io.StringIO(), io.StringIO(), io.StringIO()
        signatures = rng.integers(0, 2**32, size=(hi - lo, NUM_PERM), dtype=np.uint64).astype(np.uint32)
        for offset, article_id in enumerate(range(lo, hi)):
            articles.write(f"{article_id}\thttps://synthetic.invalid/{article_id}\t"
                           f"https://synthetic.invalid/{article_id}\tsynthetic\tpage\tok\n")
            fp = Fingerprint(signatures[offset], 300)
            prints.write(f"{article_id}\t\\\\x{fp.to_bytes().hex()}\t300\n")
            bands.writelines(f"{key}\t{article_id}\n" for key in fp.bands)
        for buffer in (articles, prints, bands):
            buffer.seek(0)
        with conn.cursor() as cur:
            cur.copy_expert("COPY articles (id, canonical_url, url, text, text_source, extraction_status) "
                            "FROM STDIN", articles)
            cur.copy_expert("COPY article_fingerprints (article_id, signature, shingles) FROM STDIN", prints)
            cur.copy_expert("COPY article_bands (band_key, article_id) FROM STDIN", bands)
        conn.commit()
        print(f"\r  stored fingerprints: {hi:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with conn.cursor() as cur:
        cur.execute("SELECT setval('articles_id_seq', %s)", (stop,))
    conn.commit()


def _measure(dsn: str, texts: list[str], batch: int = 50) -> dict[str, float]:
    from newsmon.articles.hashing import content_hash
    from newsmon.articles.store import ArticleCandidate
    from newsmon.core.db import transaction
    from newsmon.stories.neardup import fingerprint
    from newsmon.stories.store import load_articles, near_duplicate_candidates

    started = time.perf_counter()
    candidates = [ArticleCandidate(
        canonical_url=f"https://bench.invalid/{uuid.uuid4().hex}", url="https://bench.invalid/",
        source_id=None,
        title=None, text=t, author=None, language="en", language_prob=None, language_method="detected",
        published_at=None, fetched_at=None, content_hash=content_hash(t), text_source="page",
        extraction_status="ok", fingerprint=fingerprint(t)) for t in texts]
    fingerprinting = time.perf_counter() - started
    started = time.perf_counter()  # the lookup alone: LSH candidates of each new article, read-only
    with transaction(dsn) as conn, conn.cursor() as cur:
        for i in range(0, len(candidates), batch):
            near_duplicate_candidates(cur, [(n, c.fingerprint) for n, c in
                                            enumerate(candidates[i:i + batch], start=i)])
    lookup = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(candidates), batch):
        with transaction(dsn) as conn:
            load_articles(conn, candidates[i:i + batch])
    loading = time.perf_counter() - started
    return {"fingerprint_ms": 1000 * fingerprinting / len(texts), "lookup_ms": 1000 * lookup / len(texts),
            "load_ms": 1000 * loading / len(texts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="stored fingerprints to measure at")
    parser.add_argument("--articles", type=int, default=300, help="new articles loaded per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if sizes[0] < 1 or args.articles < 1:
        parser.error("--sizes and --articles must be at least 1")

    import psycopg2

    from benchmarks import scratch_database

    results = []
    with scratch_database() as dsn:
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SHOW shared_buffers")
            shared_buffers = cur.fetchone()[0]
        stored = 0
        for round_, size in enumerate(sizes):
            print(f"filling to {size:,} stored fingerprints ...", file=sys.stderr)
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("SELECT COALESCE(max(id), 0) FROM articles")
                top = cur.fetchone()[0]
            _fill_in_child(dsn, top + 1, top + 1 + size - stored, seed=7 + round_)
            with conn.cursor() as cur:  # settle the bulk load so it does not weigh on the measurement
                cur.execute("VACUUM ANALYZE articles, article_fingerprints, article_bands")
                cur.execute("CHECKPOINT")
            fill_s = time.perf_counter() - started
            stored = size
            # warm-up: 100 articles (not counted; fewer for a small run) bring the hot part of the
            # indexes into the cache, as in a running system; the measurement then is the
            # steady-state cost
            _measure(dsn, _texts(min(100, args.articles), seed=1000 + round_))
            timing = _measure(dsn, _texts(args.articles, seed=round_))
            with conn.cursor() as cur:
                cur.execute("SELECT pg_size_pretty(pg_total_relation_size('article_fingerprints')"
                            " + pg_total_relation_size('article_bands'))")
                table_size = cur.fetchone()[0]
            results.append({"stored": size, "fill_seconds": round(fill_s, 1), "table_size": table_size,
                            **{k: round(v, 3) for k, v in timing.items()}})
            print(f"  {size:>10,} stored: lookup {timing['lookup_ms']:.2f}, "
                  f"dedup+load {timing['load_ms']:.2f} ms/article, fingerprint "
                  f"{timing['fingerprint_ms']:.2f} ms/article (fingerprints table {table_size})",
                  file=sys.stderr)
        conn.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = results[-1]["load_ms"] / results[0]["load_ms"]
    lookup_ratio = results[-1]["lookup_ms"] / results[0]["lookup_ms"]
    summary = {"results": results, "shared_buffers": shared_buffers,
               "ratio_largest_to_smallest": round(ratio, 2),
               "lookup_ratio_largest_to_smallest": round(lookup_ratio, 2), "target_ratio": 1.5,
               "peak_rss_mb": round(peak_mb, 1)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"dedup cost per new article (LSH lookup + decision + load, one process; server "
              f"shared_buffers {shared_buffers}):")
        for r in results:
            print(f"  {r['stored']:>10,} stored fingerprints: {r['load_ms']:.2f} ms/article, of which the "
                  f"LSH lookup alone {r['lookup_ms']:.2f} (+ {r['fingerprint_ms']:.2f} ms to fingerprint)  "
                  f"table {r['table_size']}")
        print(f"lookup ratio {results[-1]['stored']:,} / {results[0]['stored']:,}: {lookup_ratio:.2f}")
        verdict = "PASS" if ratio < 1.5 else "FAIL"
        print(f"ratio {results[-1]['stored']:,} / {results[0]['stored']:,}: {ratio:.2f} "
              f"(target < 1.5: {verdict}); worker peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
