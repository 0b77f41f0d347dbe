"""Full-text search latency over 100 thousand articles (target: p95 under 200 ms).

Fills a fresh PostgreSQL database with synthetic French and English articles (random word
sequences drawn from the dedup evaluation documents, so word frequencies are realistic), loaded
with COPY through the article_search trigger, vacuumed and analysed (as autovacuum and the
news_maintenance DAG leave a live database), then times ``search.search`` (ranked, top 20, with
snippets, no language given: every configuration's index) for 200 queries of rare terms and 200
of common terms, and reports p50/p95. Ranking is bounded to the 5,000 most recent matches (the
default ``rank_window``); ``--rank-all`` also times ranking every match, for comparison. The
database is dropped at the end.

    python -m benchmarks.bench_search [--articles 100000] [--queries 200] [--rank-all] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 200.0


def _vocabularies() -> dict[str, list[str]]:
    """Per language, every word token of the evaluation documents (repeats keep frequencies)."""
    docs = yaml.safe_load((ROOT / "eval" / "dedup" / "documents.yml").read_text())["documents"]
    vocab: dict[str, list[str]] = {}
    for doc in docs:
        words = [w.strip(".,;:!?«»\"()[]") for w in doc["text"].split()]
        vocab.setdefault(doc["lang"], []).extend(w for w in words if re.fullmatch(r"[\w'’-]+", w))
    return vocab


def _term_pools(vocab: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Rare terms (seen once in the vocabulary) and common ones (frequent, but no stop words)."""
    rare: list[str] = []
    common: list[str] = []
    for words in vocab.values():
        counts = Counter(w.lower() for w in words)
        rare += [w for w, n in counts.items() if n == 1 and len(w) > 5]
        common += [w for w, n in counts.most_common(200) if len(w) > 5][:20]
    return rare, common


def _fill(dsn: str, articles: int, vocab: dict[str, list[str]], seed: int = 7) -> float:
    import psycopg2

    rng = random.Random(seed)
    langs = sorted(vocab)
    now = datetime.now(UTC)
    started = time.perf_counter()
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            batch = 10_000
            for start in range(0, articles, batch):
                buf = io.StringIO()
                for i in range(start, min(start + batch, articles)):
                    lang = langs[i % len(langs)]
                    words = vocab[lang]
                    title = " ".join(rng.choices(words, k=rng.randint(6, 12)))
                    text = " ".join(rng.choices(words, k=rng.randint(120, 280)))
                    published = now - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
                    url = f"https://bench.example/{i}"
                    buf.write("\t".join([url, url, title, text, lang, published.isoformat(), "file", "ok"]))
                    buf.write("\n")
                buf.seek(0)
                cur.copy_expert("COPY articles (canonical_url, url, title, text, language, published_at, "
                                "text_source, extraction_status) FROM STDIN", buf)
    finally:
        conn.close()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) articles")
            cur.execute("VACUUM (ANALYZE) article_search")
    finally:
        conn.close()
    return time.perf_counter() - started


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _time_queries(dsn: str, terms: list[str], count: int, rng: random.Random,
                  language: str | None = None, rank_window: int | None = None) -> dict[str, float]:
    from newsmon.analysts.search import DEFAULT_RANK_WINDOW, search

    window = DEFAULT_RANK_WINDOW if rank_window is None else rank_window
    times: list[float] = []
    hits: list[int] = []
    matches: list[int] = []
    for _ in range(count):
        term = rng.choice(terms)
        started = time.perf_counter()
        result = search(dsn, term, language=language, limit=20, rank_window=window)
        times.append((time.perf_counter() - started) * 1000)
        hits.append(len(result.hits))
        matches.append(result.matches)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(_percentile(times, 95), 1),
            "max_ms": round(max(times), 1), "mean_hits": round(statistics.mean(hits), 1),
            "mean_matches": round(statistics.mean(matches)), "rank_window": window}


def _matches(dsn: str, term: str) -> int:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM article_search WHERE vector @@ "
                        "websearch_to_tsquery(config, %s)", (term,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def _explain(dsn: str, term: str) -> str:
    import psycopg2

    from newsmon.analysts.search import build_query

    sql, params = build_query(term, limit=20)
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            return "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    from newsmon.operations.localdb import create_database, drop_database, find_server
    from newsmon.operations.migrate import migrate

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the plan of a common-term query")
    parser.add_argument("--rank-all", action="store_true",
                        help="also time common terms with every match ranked (rank window 0)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    vocab = _vocabularies()
    rare, common = _term_pools(vocab)
    server = find_server()
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    dsn = create_database(server, name)
    try:
        migrate(dsn)
        load_s = _fill(dsn, args.articles, vocab)
        rng = random.Random(11)
        results = {
            "articles": args.articles,
            "load_seconds": round(load_s, 1),
            "rare_terms": _time_queries(dsn, rare, args.queries, rng),
            "common_terms": _time_queries(dsn, common, args.queries, rng),
            "common_terms_lang_fr": _time_queries(dsn, [w for w in common if w in {x.lower() for x in
                                                                              vocab["fr"]}],
                                                  args.queries // 4, rng, language="fr"),
            **({"common_terms_rank_all": _time_queries(dsn, common, args.queries // 4, rng, rank_window=0)}
               if args.rank_all else {}),
            "example_matches": {"rare": (rare[0], _matches(dsn, rare[0])),
                                "common": (common[0], _matches(dsn, common[0]))},
            "target": f"p95 under {TARGET_P95_MS:.0f} ms",
        }
        if args.explain:
            print(_explain(dsn, common[0]))
    finally:
        drop_database(server, name)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{results['articles']} articles loaded through the trigger in {results['load_seconds']} s")
        for key in ("rare_terms", "common_terms", "common_terms_lang_fr", "common_terms_rank_all"):
            if key not in results:
                continue
            r = results[key]
            print(f"{key:22s} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms"
                  f"  ({r['mean_hits']} hits, {r['mean_matches']:,} matches on average, "
                  f"rank window {r['rank_window'] or 'all'})")
        print(f"example matches: {results['example_matches']}")
        worst = max(results[k]["p95_ms"] for k in ("rare_terms", "common_terms"))
        verdict = "OK" if worst < TARGET_P95_MS else "MISSED"
        print(f"target: p95 under {TARGET_P95_MS:.0f} ms (ranked, top 20, with snippets): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
