"""Month partitioning of ``articles`` and its tags, measured: the same data in two layouts.

In a throwaway database (``newsmon.operations.migrate.migrate``, then COPY) this fills the real, single
``articles`` table with ``--articles`` short articles spread over ``--months`` months (ids in
insertion order, 2 % without a publication date), one ``article_topics`` row per article (the
NATO–Russia topic, about 15 % matched) and two ``article_entities`` rows per article. It then
copies the same rows into a month-partitioned layout (declarative ``PARTITION BY RANGE
(created_at)``, one partition per month plus a default one; the tags carry their article's
``created_at`` so they are partitioned alike). Uniqueness there must include the partition key:
``(canonical_url, created_at)`` and ``(content_hash, created_at)`` are per-month keys, so a
partitioned archive can no longer enforce a global unique URL (the pipeline's dedup relies on
it). The partitioned tables get every index the migrations gave the originals (unique ones with
``created_at`` appended) plus one on ``created_at``; they have no triggers (the search-index
upkeep trigger of ``articles`` costs the same in either layout; it is disabled on ``articles``
while inserts are compared).

Measured, p50 (and p95) of ``--repeat`` runs, the two layouts alternating so that a burst of
other work on the machine slows both alike:

- analyst queries: matched topic articles of the last 24 hours and of the last 7 days, and an
  entity-mentions-per-day aggregate over one month, each in two forms: as the views and
  ``newsmon.analysts.search`` write them (``COALESCE(published_at, created_at)``, which no partition
  bound can prune) and rewritten with a ``created_at`` bound that lets the planner prune;
- lookups: one article by ``canonical_url``; the dedup lookup of ``stories.store.load_articles`` (100
  URLs and 100 content hashes, half of them stored); an insert of 100 new articles (rolled
  back). These run without any time index (``articles_seen_idx`` of sql/0013 is dropped first).
  Then the time-bounded queries again on the single table with an index on
  ``COALESCE(published_at, created_at)`` (sql/0013's) and one on ``created_at`` (not in
  ``sql/``): the fair rival of pruning;
- retention (once, at the end, destructive): removing the oldest month, ``DELETE`` (cascading
  to the tags) + ``VACUUM`` on the single table against ``DETACH PARTITION`` + ``DROP TABLE``.
  newsmon's retention (``news_maintenance``) deletes raw feed entries, never articles.

The texts are short (about 25 words; real article texts are about 3 KB and TOASTed), so the
tables are smaller than a real archive of the same row count. The database is dropped at the end.

    python -m benchmarks.bench_partitioning [--articles 600000] [--months 12] [--repeat 15] [--json]
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

TOPIC = "nato_russia"
ENTITIES = 300
_VOCABULARY = ("otan russie moscou bruxelles sommet ministre défense frontière accord sanctions gaz "
               "missile alliance exercice militaire diplomate ambassade négociation cessez-le-feu nato "
               "russia summit minister defence border talks sanctions pipeline drone treaty troops "
               "election market energy storm football culture science budget parliament")
WORDS = _VOCABULARY.split()


# -- data ----------------------------------------------------------------------------------------

def _month_starts(anchor: datetime, months: int) -> list[datetime]:
    """First instants of the ``months`` calendar months ending with the anchor's, oldest first."""
    first = anchor.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return starts[::-1]


def _fill(cur: Any, articles: int, start: datetime, anchor: datetime, seed: int = 5) -> None:
    """COPY the articles (ids 1..n in time order), one topic row and two entity rows each."""
    rng = random.Random(seed)
    span = (anchor - start).total_seconds()
    cur.execute("INSERT INTO entities (name, type) "
                "SELECT 'Entity ' || g, 'ORG' FROM generate_series(1, %s) g", (ENTITIES,))
    cur.execute("SELECT min(id) FROM entities")
    first_entity = cur.fetchone()[0]
    batch = 50_000
    for lo in range(0, articles, batch):
        arts, topics, ents = io.StringIO(), io.StringIO(), io.StringIO()
        for i in range(lo, min(lo + batch, articles)):
            created = start + timedelta(seconds=span * (i + rng.random()) / articles)
            published = "\\N" if rng.random() < 0.02 else \
                (created - timedelta(seconds=rng.randint(0, 6 * 3600))).isoformat()
            lang = "fr" if i % 2 else "en"
            title = " ".join(rng.choices(WORDS, k=8))
            text = " ".join(rng.choices(WORDS, k=25))
            url = f"https://bench{i % 50}.example/{created:%Y/%m}/{i}.html"
            chash = f"{rng.getrandbits(128):032x}"
            arts.write("\t".join([url, url, title, text, lang, published, created.isoformat(),
                                  created.isoformat(), chash, "page", "ok", created.isoformat()]) + "\n")
            article_id = i + 1
            score = rng.random() ** 3
            topics.write(f"{article_id}\t{TOPIC}\t{score:.4f}\t{'t' if score >= 0.6 else 'f'}\n")
            for entity in rng.sample(range(ENTITIES), 2):
                ents.write(f"{article_id}\t{first_entity + entity}\t{rng.randint(1, 5)}\n")
        for buf in (arts, topics, ents):
            buf.seek(0)
        cur.copy_expert("COPY articles (canonical_url, url, title, text, language, published_at, "
                        "created_at, updated_at, content_hash, text_source, extraction_status, tagged_at) "
                        "FROM STDIN", arts)
        cur.copy_expert("COPY article_topics (article_id, topic, score, matched) FROM STDIN", topics)
        cur.copy_expert("COPY article_entities (article_id, entity_id, mentions) FROM STDIN", ents)
    cur.execute("SELECT min(id), max(id) FROM articles")
    if cur.fetchone() != (1, articles):
        raise RuntimeError("expected article ids 1..n in a fresh database")


def _partitioned_ddl(months: list[datetime]) -> list[str]:
    """The month-partitioned copy of articles, article_topics and article_entities."""
    bounds = [*months, (months[-1] + timedelta(days=32)).replace(day=1)]
    ddl = [
        "CREATE TABLE p_articles (LIKE articles INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING GENERATED) PARTITION BY RANGE (created_at)",
        "CREATE TABLE p_article_topics (LIKE article_topics INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
        "created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)",
        "CREATE TABLE p_article_entities (LIKE article_entities INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
        "created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at)",
    ]
    for table in ("p_articles", "p_article_topics", "p_article_entities"):
        for k, lo in enumerate(bounds[:-1]):
            ddl.append(f"CREATE TABLE {table}_{lo:%Y_%m} PARTITION OF {table} "
                       f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{bounds[k + 1].isoformat()}')")
        ddl.append(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    return ddl


_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:public\.)?(\w+) USING (\w+) "
                        r"\((.*?)\)( WHERE .*)?$")


def _copy_indexes(cur: Any, source: str, target: str) -> list[str]:
    """Recreate ``source``'s indexes (whatever the migrations made them) on the partitioned
    ``target``, unique ones with the partition key appended; returns those unique keys."""
    cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s ORDER BY 1",
                (source,))
    per_month = []
    for (indexdef,) in cur.fetchall():
        match = _INDEX_DEF.match(indexdef)
        if match is None:
            raise RuntimeError(f"cannot copy index definition: {indexdef}")
        unique, _, method, columns, where = match.groups()
        if unique:
            columns += ", created_at"
            per_month.append(f"{target} ({columns}){where or ''}")
        cur.execute(f"CREATE {unique or ''}INDEX ON {target} USING {method} ({columns}){where or ''}")
    return per_month


def _build_partitioned(cur: Any, months: list[datetime]) -> list[str]:
    """Create and fill the partitioned copy; returns its (per-month) unique keys."""
    for statement in _partitioned_ddl(months):
        cur.execute(statement)
    cur.execute("INSERT INTO p_articles SELECT * FROM articles")
    cur.execute("""INSERT INTO p_article_topics (article_id, topic, score, matched, why, created_at)
                   SELECT t.article_id, t.topic, t.score, t.matched, t.why, a.created_at
                   FROM article_topics t JOIN articles a ON a.id = t.article_id""")
    cur.execute("""INSERT INTO p_article_entities (article_id, entity_id, mentions, in_title, first_sentence,
                                                   source, occurrences, created_at)
                   SELECT e.article_id, e.entity_id, e.mentions, e.in_title, e.first_sentence, e.source,
                          e.occurrences, a.created_at
                   FROM article_entities e JOIN articles a ON a.id = e.article_id""")
    per_month = []
    for source in ("articles", "article_topics", "article_entities"):
        per_month += _copy_indexes(cur, source, f"p_{source}")
    # the partition key itself, which time-bounded queries can then also use within a partition
    cur.execute("CREATE INDEX ON p_articles (created_at)")
    return per_month


# -- queries -------------------------------------------------------------------------------------

LAYOUTS = {"single": {"a": "articles", "t": "article_topics", "e": "article_entities"},
           "partitioned": {"a": "p_articles", "t": "p_article_topics", "e": "p_article_entities"}}

# {a}, {t}, {e}: the layout's tables. View form: what topic_articles / entity_mentions_daily /
# newsmon.analysts.search write. Pruning form: the same with created_at bounds the planner can prune on.
TOPIC_VIEW = """SELECT t.score, a.id, a.title, COALESCE(a.published_at, a.created_at) AS seen_at
FROM {t} t JOIN {a} a ON a.id = t.article_id
WHERE t.topic = %(topic)s AND t.matched AND a.retracted_at IS NULL
  AND COALESCE(a.published_at, a.created_at) >= %(since)s
ORDER BY seen_at DESC"""
TOPIC_PRUNED = """SELECT t.score, a.id, a.title, COALESCE(a.published_at, a.created_at) AS seen_at
FROM {t} t JOIN {a} a ON a.id = t.article_id AND a.created_at = {tcreated}
WHERE t.topic = %(topic)s AND t.matched AND a.retracted_at IS NULL
  AND COALESCE(a.published_at, a.created_at) >= %(since)s
  AND a.created_at >= %(since)s AND {tcreated} >= %(since)s
ORDER BY seen_at DESC"""
MONTH_VIEW = """SELECT date_trunc('day', COALESCE(a.published_at, a.created_at)) AS day, e.entity_id,
       count(DISTINCT a.id) AS articles, sum(e.mentions) AS mentions
FROM {e} e JOIN {a} a ON a.id = e.article_id
WHERE COALESCE(a.published_at, a.created_at) >= %(lo)s AND COALESCE(a.published_at, a.created_at) < %(hi)s
GROUP BY 1, 2"""
MONTH_PRUNED = """SELECT date_trunc('day', COALESCE(a.published_at, a.created_at)) AS day, e.entity_id,
       count(DISTINCT a.id) AS articles, sum(e.mentions) AS mentions
FROM {e} e JOIN {a} a ON a.id = e.article_id AND a.created_at = {ecreated}
WHERE a.created_at >= %(lo)s AND a.created_at < %(hi)s AND {ecreated} >= %(lo)s AND {ecreated} < %(hi)s
GROUP BY 1, 2"""
URL_LOOKUP = "SELECT id FROM {a} WHERE canonical_url = %(url)s"
DEDUP_LOOKUP = """SELECT id, canonical_url, content_hash, text_source, story_id FROM {a}
WHERE canonical_url = ANY(%(urls)s) OR content_hash = ANY(%(hashes)s)"""
INSERT_100 = """INSERT INTO {a} (canonical_url, url, title, text, language, published_at, content_hash,
                 text_source, extraction_status)
SELECT 'https://new.example/' || %(tag)s || '/' || g, 'https://new.example/' || %(tag)s || '/' || g,
       'New article ' || g, %(text)s || ' ' || g, 'en', now(), md5(%(tag)s || g), 'page', 'ok'
FROM generate_series(1, 100) g"""


# what the single table needs to answer time-bounded queries from an index: the first is
# sql/0013's (dropped for the other timings), the second is not in sql/
SEEN_INDEX = "articles_seen_idx"
SINGLE_TIME_INDEXES = (f"CREATE INDEX {SEEN_INDEX} ON articles ((COALESCE(published_at, created_at)))",
                       "CREATE INDEX articles_created_at_idx ON articles (created_at)")


def _sql(template: str, layout: str) -> str:
    names = dict(LAYOUTS[layout])
    # the single layout's tags have no created_at: the pruning form joins on the article's
    names["tcreated"] = "t.created_at" if layout == "partitioned" else "a.created_at"
    names["ecreated"] = "e.created_at" if layout == "partitioned" else "a.created_at"
    return template.format(**names)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _time_pair(conn: Any, template: str, params: Callable[[int], dict[str, Any]], repeat: int,
               rollback: bool = False,
               layouts: tuple[str, ...] = tuple(LAYOUTS)) -> dict[str, dict[str, float]]:
    """Run the query ``repeat`` times per layout, alternating, after one warm-up run each."""
    times: dict[str, list[float]] = {layout: [] for layout in layouts}
    rows: dict[str, int] = {}
    with conn.cursor() as cur:
        for k in range(-1, repeat):
            for layout in layouts:
                sql = _sql(template, layout)
                started = time.perf_counter()
                cur.execute(sql, params(k))
                n = cur.rowcount if cur.description is None else len(cur.fetchall())
                elapsed = (time.perf_counter() - started) * 1000
                if rollback:
                    conn.rollback()
                if k >= 0:
                    times[layout].append(elapsed)
                    rows[layout] = n
    conn.rollback()
    return {layout: {"p50_ms": round(statistics.median(v), 2), "p95_ms": round(_percentile(v, 95), 2),
                     "rows": rows[layout]} for layout, v in times.items()}


def _set_triggers(conn: Any, *, enabled: bool) -> None:
    """Enable or disable the user triggers of ``articles`` (the search index upkeep)."""
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"ALTER TABLE articles {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER")
    conn.autocommit = False


def _partitions_scanned(conn: Any, template: str, params: dict[str, Any]) -> dict[str, int]:
    """EXPLAIN ANALYZE the partitioned form: how many article partitions the plan actually touched."""
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + _sql(template, "partitioned"), params)
        plan = [r[0] for r in cur.fetchall()]
    conn.rollback()
    planned = sum(1 for line in plan if " on p_articles_" in line)
    never = sum(1 for line in plan if " on p_articles_" in line and "(never executed)" in line)
    return {"article_partitions_in_plan": planned, "never_executed": never}


def _sizes(cur: Any) -> dict[str, float]:
    out = {}
    for layout, tables in LAYOUTS.items():
        total = 0
        for table in tables.values():
            cur.execute("""SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                           WHERE c.oid = %s::regclass
                              OR c.oid IN (SELECT inhrelid FROM pg_inherits
                                           WHERE inhparent = %s::regclass)""",
                        (table, table))
            total += int(cur.fetchone()[0])
        out[layout] = round(total / 2**20, 1)
    return out


def _retention(conn: Any, oldest: datetime, next_month: datetime) -> dict[str, Any]:
    """Remove the oldest month from each layout, once: DELETE + VACUUM against DETACH + DROP."""
    conn.autocommit = True
    out: dict[str, Any] = {}
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles WHERE created_at < %s", (next_month,))
        out["articles_in_month"] = cur.fetchone()[0]
        started = time.perf_counter()
        cur.execute("DELETE FROM articles WHERE created_at >= %s AND created_at < %s", (oldest, next_month))
        out["single_delete_s"] = round(time.perf_counter() - started, 3)
        out["single_deleted"] = cur.rowcount
        started = time.perf_counter()
        cur.execute("VACUUM articles, article_topics, article_entities")
        out["single_vacuum_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        for table in ("p_article_topics", "p_article_entities", "p_articles"):
            cur.execute(f"ALTER TABLE {table} DETACH PARTITION {table}_{oldest:%Y_%m}")
            cur.execute(f"DROP TABLE {table}_{oldest:%Y_%m}")
        out["partitioned_detach_drop_s"] = round(time.perf_counter() - started, 3)
    conn.autocommit = False
    out["single_total_s"] = round(out["single_delete_s"] + out["single_vacuum_s"], 3)
    return out


def run(server_url: str, articles: int, months: int, repeat: int, progress: bool = True) -> dict[str, Any]:
    """Build both layouts in a throwaway database, time them; JSON-serializable result."""
    import psycopg2

    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate

    def say(message: str) -> None:
        if progress:
            print(message, file=sys.stderr, flush=True)

    anchor = datetime.now(UTC)
    month_starts = _month_starts(anchor, months)
    start = month_starts[0]
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    dsn = create_database(server_url, name)
    result: dict[str, Any] = {"articles": articles, "months": months, "repeat": repeat,
                              "partition_key": "created_at"}
    try:
        migrate(dsn)
        conn = psycopg2.connect(dsn, application_name="newsmon-bench-partitioning")
        try:
            with conn.cursor() as cur:
                # Both layouts start without a time index; the single table gets its time indexes
                # (sql/0013's among them) for the "+time idx" column only.
                cur.execute(f"DROP INDEX {SEEN_INDEX}")
                cur.execute("SHOW shared_buffers")
                result["shared_buffers"] = cur.fetchone()[0]
                say(f"filling {articles} articles over {months} months ...")
                t0 = time.perf_counter()
                _fill(cur, articles, start, anchor)
                conn.commit()
                result["fill_single_s"] = round(time.perf_counter() - t0, 1)
                say("building the partitioned copy ...")
                t0 = time.perf_counter()
                result["unique_keys_per_month"] = _build_partitioned(cur, month_starts)
                conn.commit()
                result["fill_partitioned_s"] = round(time.perf_counter() - t0, 1)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
                cur.execute("CHECKPOINT")
                result["size_mb"] = _sizes(cur)
                cur.execute("SELECT count(*) FROM p_articles_default")
                result["default_partition_rows"] = cur.fetchone()[0]
            conn.autocommit = False

            rng = random.Random(3)
            with conn.cursor() as cur:
                cur.execute("SELECT canonical_url, content_hash FROM articles WHERE id = ANY(%s)",
                            (rng.sample(range(1, articles + 1), min(articles, 2000)),))
                stored = cur.fetchall()
            conn.rollback()
            urls = [u for u, _ in stored]
            hashes = [h for _, h in stored]
            month = month_starts[len(month_starts) // 2]
            month_end = month_starts[len(month_starts) // 2 + 1]
            day = {"topic": TOPIC, "since": anchor - timedelta(hours=24)}
            week = {"topic": TOPIC, "since": anchor - timedelta(days=7)}
            queries: dict[str, tuple[str, Callable[[int], dict[str, Any]], bool]] = {
                "topic_24h_view": (TOPIC_VIEW, lambda k: day, False),
                "topic_24h_pruned": (TOPIC_PRUNED, lambda k: day, False),
                "topic_7d_view": (TOPIC_VIEW, lambda k: week, False),
                "topic_7d_pruned": (TOPIC_PRUNED, lambda k: week, False),
                "month_aggregate_view": (MONTH_VIEW, lambda k: {"lo": month, "hi": month_end}, False),
                "month_aggregate_pruned": (MONTH_PRUNED, lambda k: {"lo": month, "hi": month_end}, False),
                "lookup_canonical_url": (URL_LOOKUP, lambda k: {"url": urls[k % len(urls)]}, False),
                "dedup_lookup_100": (DEDUP_LOOKUP, lambda k: {
                    "urls": [*rng.sample(urls, min(50, len(urls))), *(f"https://new.example/{k}/{j}"
                                                                    for j in range(50))],
                    "hashes": [*rng.sample(hashes, min(50, len(hashes))), *(f"{k:08d}{j:024d}"
                                                                          for j in range(50))]}, False),
                "insert_100": (INSERT_100,
                               lambda k: {"tag": f"r{k}", "text": " ".join(rng.choices(WORDS, k=25))}, True),
            }
            timings: dict[str, Any] = {}
            for label, (template, params, rollback) in queries.items():
                say(f"timing {label} ...")
                reps = repeat * 4 if label in ("lookup_canonical_url", "dedup_lookup_100", "insert_100") \
                    else repeat
                if label == "insert_100":  # the search trigger costs the same in both: compare the rest
                    _set_triggers(conn, enabled=False)
                timings[label] = _time_pair(conn, template, params, reps, rollback)
                if label == "insert_100":
                    _set_triggers(conn, enabled=True)
            # the fair rival of partition pruning: the single table with an index on the time bound
            say("indexing the single table on its time columns ...")
            conn.autocommit = True
            with conn.cursor() as cur:
                t0 = time.perf_counter()
                for statement in SINGLE_TIME_INDEXES:
                    cur.execute(statement)
                cur.execute("ANALYZE articles")
                result["single_time_indexes_s"] = round(time.perf_counter() - t0, 1)
            conn.autocommit = False
            for label, (template, params, rollback) in queries.items():
                if label.startswith(("topic_", "month_")):
                    say(f"timing {label} (single table, time indexes) ...")
                    timings[label]["single_indexed"] = _time_pair(conn, template, params, repeat, rollback,
                                                                  layouts=("single",))["single"]
            result["queries"] = timings
            result["plans"] = {
                "topic_24h_view": _partitions_scanned(conn, TOPIC_VIEW, day),
                "topic_24h_pruned": _partitions_scanned(conn, TOPIC_PRUNED, day),
                "month_aggregate_pruned": _partitions_scanned(conn, MONTH_PRUNED,
                                                              {"lo": month, "hi": month_end}),
                "lookup_canonical_url": _partitions_scanned(conn, URL_LOOKUP, {"url": urls[0]}),
            }
            say("retention: removing the oldest month from both layouts ...")
            result["retention"] = _retention(conn, month_starts[0], month_starts[1])
        finally:
            conn.close()
    finally:
        drop_database(server_url, name)
    result["verdict"] = _verdict(result)
    return result


def _verdict(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per measurement: single vs partitioned, ratio, and which layout is cheaper."""
    rows = []
    for label, t in result["queries"].items():
        indexed = t["single_indexed"]["p50_ms"] if "single_indexed" in t else None
        single = min(t["single"]["p50_ms"], indexed or t["single"]["p50_ms"])
        part = t["partitioned"]["p50_ms"]
        rows.append({"what": label, "single_ms": t["single"]["p50_ms"], "single_indexed_ms": indexed,
                     "partitioned_ms": part, "ratio": round(part / single, 2) if single else None,
                     "cheaper": "partitioned" if part < 0.9 * single else
                                "single" if single < 0.9 * part else "same (within 10 %)"})
    ret = result["retention"]
    single_ms, part_ms = 1000 * ret["single_total_s"], 1000 * ret["partitioned_detach_drop_s"]
    rows.append({"what": "retention: drop oldest month", "single_ms": round(single_ms, 1),
                 "single_indexed_ms": None,
                 "partitioned_ms": round(part_ms, 1),
                 "ratio": round(part_ms / single_ms, 3) if single_ms else None,
                 "cheaper": "partitioned" if part_ms < 0.9 * single_ms else "single"})
    return rows


def format_report(result: dict[str, Any]) -> str:
    lines = [f"partitioning: {result['articles']:,} articles over {result['months']} months "
             f"(+{result['articles']:,} topic rows, {2 * result['articles']:,} entity rows), partition key "
             f"{result['partition_key']}, shared_buffers {result['shared_buffers']}, "
             f"p50 of {result['repeat']} runs (x4 for lookups and inserts)",
             f"fill: single {result['fill_single_s']} s (COPY through the trigger), partitioned copy "
             f"{result['fill_partitioned_s']} s; size with indexes: single {result['size_mb']['single']} MB, "
             f"partitioned {result['size_mb']['partitioned']} MB; rows in the default partition: "
             f"{result['default_partition_rows']}",
             f"{'':28}{'single':>11}{'+time idx':>11}{'partitioned':>13}{'ratio*':>8}  cheaper"]
    for row in result["verdict"]:
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.2f}"
        indexed = "" if row["single_indexed_ms"] is None else f"{row['single_indexed_ms']:.2f}ms"
        lines.append(f"{row['what'][:28]:<28}{row['single_ms']:>9.2f}ms{indexed:>11}"
                     f"{row['partitioned_ms']:>11.2f}ms{ratio:>8}  {row['cheaper']}")
    lines.append("* partitioned / the better single-table figure; +time idx: the single table with indexes "
                 "on COALESCE(published_at, created_at) (sql/0013) and created_at (not in sql/)")
    ret = result["retention"]
    lines.append(f"retention detail: {ret['single_deleted']:,} articles in the oldest month; DELETE "
                 f"{ret['single_delete_s']} s + VACUUM {ret['single_vacuum_s']} s against DETACH + DROP "
                 f"{ret['partitioned_detach_drop_s']} s (newsmon's retention deletes no articles)")
    for label, plan in result["plans"].items():
        lines.append(f"plan {label}: {plan['article_partitions_in_plan']} article partitions in the plan, "
                     f"{plan['never_executed']} never executed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_partitioning",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600_000, help="articles (%(default)s)")
    parser.add_argument("--months", type=int, default=12, help="months they span (%(default)s)")
    parser.add_argument("--repeat", type=int, default=15,
                        help="timed runs per query and layout (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args(argv)
    if args.articles < 100 or args.months < 2 or args.repeat < 1:
        parser.error("--articles >= 100, --months >= 2, --repeat >= 1")

    from benchmarks import server_or_none

    server_url = server_or_none()
    if server_url is None:
        return 2
    result = run(server_url, args.articles, args.months, args.repeat, progress=not args.json)
    print(json.dumps(result, indent=2, default=str) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
