"""Event assignment cost as the archive grows: per-story cost at 10k and at 1M stored events
(target: ratio <= 1.5) and the time to place a batch of 500 stories at 1M (target: < 1 s).

The archive is synthetic and built with bulk SQL (generate_series: one INSERT per table, the
candidate index rebuilt after the load), 1,000 events a day, each with 8 evidence keys (3 of a
pool of 30 common ones, "NATO"-like, and 5 of a vocabulary of 20,000 rarer ones) in the
``event_keys`` index; so 10k events cover 10 days and 1M cover 1,000 days. The measured batch
is 500 new stories of the last day, drawn the same way (about half of them share rare keys with
an event of the window and join it), placed through the real code
(``newsmon.events.cluster.assign`` on ``newsmon.events.store.PostgresBackend``) in one
transaction that is rolled back, after a warm-up batch; the median of 3 runs.

    python -m benchmarks.bench_events [--sizes 10000,1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

PER_DAY = 1000
COMMON = 30
VOCABULARY = 20_000
BATCH = 500


def _fill(conn, start: int, stop: int, day0: datetime) -> None:
    """Events start..stop-1 (ids), PER_DAY a day from ``day0``, and their index rows."""
    keys = ", ".join([f"'e:C' || mod(g, {COMMON})", f"'e:C' || mod(g / 7, {COMMON})", "'c:K' || mod(g, 13)"]
                     + [f"'w:S' || mod(g * {7 + 2 * j} + {j}, {VOCABULARY})" for j in range(5)])
    with conn.cursor() as cur:
        cur.execute(f"""
            INSERT INTO events (id, title, first_seen_at, last_seen_at, story_count, centroid)
            SELECT g, 'synthetic event ' || g, t, t, 1,
                   (SELECT jsonb_object_agg(k, 1.0) FROM unnest(ARRAY[{keys}]) AS k)
            FROM generate_series(%s, %s) AS g,
                 LATERAL (SELECT %s::timestamptz + (g / {PER_DAY}) * interval '1 day'
                                 + mod(g, {PER_DAY}) * interval '86 seconds' AS t) x""",
                    (start, stop - 1, day0))
        cur.execute(f"""
            INSERT INTO event_keys (key, day, event_id)
            SELECT DISTINCT k, (extract(epoch FROM %s::timestamptz)::bigint / 86400 + g / {PER_DAY})::int, g
            FROM generate_series(%s, %s) AS g, unnest(ARRAY[{keys}]) AS k""", (day0, start, stop - 1))
        cur.execute("SELECT setval('events_id_seq', %s)", (stop,))


def _stories(seed: int, when: datetime):
    from newsmon.events.evidence import StoryEvidence

    rng = random.Random(seed)
    out = []
    for n in range(BATCH):
        g = rng.randrange(10**9)
        keys = {f"e:C{g % COMMON}": 0.8, f"e:C{(g // 7) % COMMON}": 0.8, f"c:K{g % 13}": 0.6}
        if n % 2:  # an existing event's rare keys: this story joins it
            keys.update({f"w:S{(g * (7 + 2 * j) + j) % VOCABULARY}": 0.5 for j in range(5)})
        else:
            keys.update({f"w:N{seed}-{n}-{j}": 0.5 for j in range(5)})
        out.append(StoryEvidence(0, when + timedelta(seconds=n), "en", keys))
    return out


def _measure(dsn: str, when: datetime, seed: int) -> float:
    """Seconds to place one batch (rolled back)."""
    import psycopg2

    from newsmon.events.cluster import assign
    from newsmon.events.store import PostgresBackend

    stories = _stories(seed, when)
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("""INSERT INTO stories (title, first_seen_at, last_seen_at)
                           SELECT 'bench', %s, %s FROM generate_series(1, %s) RETURNING id""",
                        (when, when, BATCH))
            for story, (story_id,) in zip(stories, cur.fetchall(), strict=True):
                story.story_id = story_id
        started = time.perf_counter()
        assign(stories, PostgresBackend(conn))
        return time.perf_counter() - started
    finally:
        conn.rollback()
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="stored events to measure at")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    import psycopg2

    from benchmarks import scratch_database

    results = []
    with scratch_database() as dsn:
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        for size in sizes:
            print(f"building {size:,} stored events with bulk SQL ...", file=sys.stderr)
            started = time.perf_counter()
            day0 = (datetime.now(UTC) - timedelta(days=size // PER_DAY)).replace(
                hour=0, minute=0, second=0, microsecond=0)
            with conn.cursor() as cur:
                cur.execute("TRUNCATE events, event_keys, event_stories, event_splits CASCADE")
                cur.execute("ALTER TABLE event_keys DROP CONSTRAINT event_keys_pkey")
                cur.execute("DROP INDEX event_keys_event_idx")
            _fill(conn, 1, size + 1, day0)
            with conn.cursor() as cur:
                cur.execute("ALTER TABLE event_keys ADD PRIMARY KEY (key, day, event_id)")
                cur.execute("CREATE INDEX event_keys_event_idx ON event_keys (event_id)")
                cur.execute("VACUUM ANALYZE events, event_keys")
                cur.execute("SELECT count(*) FROM event_keys")
                index_rows = cur.fetchone()[0]
            build_s = time.perf_counter() - started
            last_day = day0 + timedelta(days=size // PER_DAY - 1, hours=12)
            _measure(dsn, last_day, seed=999)  # warm-up
            runs = [_measure(dsn, last_day, seed=s) for s in (1, 2, 3)]
            batch_s = statistics.median(runs)
            results.append({"stored_events": size, "index_rows": index_rows,
                            "build_seconds": round(build_s, 1),
                            "batch_seconds": round(batch_s, 3),
                            "per_story_ms": round(1000 * batch_s / BATCH, 3)})
            print(f"  {size:>10,} events: {BATCH} stories in {batch_s:.3f} s "
                  f"({1000 * batch_s / BATCH:.2f} ms/story; built in {build_s:.0f} s, "
                  f"{index_rows:,} index rows)",
                  file=sys.stderr)
        conn.close()
    ratio = results[-1]["per_story_ms"] / results[0]["per_story_ms"] if len(results) > 1 else 1.0
    summary = {"results": results, "ratio": round(ratio, 2),
               "batch_of_500_at_largest_s": results[-1]["batch_seconds"]}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print("== events: per-story assignment cost as the archive grows (targets: ratio <= 1.5, "
              "500 stories < 1 s at 1M)")
        for r in results:
            print(f"  {r['stored_events']:>10,} stored events: {r['per_story_ms']:.2f} ms/story, "
                  f"batch of {BATCH}: {r['batch_seconds']:.3f} s")
        print(f"  ratio largest/smallest: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
