"""Sharded tagging (``tag_articles(shard=(index, count))``, one mapped task per shard in
news_ingest): the shards partition the untagged articles exactly, and shards running at the
same time in separate processes store the same tags as one unsharded run (real PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import psycopg2
import pytest

from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.pipeline.tasks import check_shard, finish_run, tag_articles, tag_stage
from newsmon.tagging import store as tag_store


def _rows(db: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _untag(db: str) -> int:
    """Mark every article untagged (tags kept: the next run replaces them); return how many."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("UPDATE articles SET tagged_at = NULL, tagged_hash = NULL")
        return cur.rowcount


def _tags(db: str) -> dict[str, set[tuple]]:
    """Every stored tag, keyed by entity name (not id: NER-only entities may be re-created)."""
    return {
        "entities": set(_rows(db, """SELECT ae.article_id, e.name, e.type, e.origin, ae.mentions, ae.in_title,
                                            ae.first_sentence, ae.source, ae.occurrences::text
                                     FROM article_entities ae JOIN entities e ON e.id = ae.entity_id""")),
        "keywords": set(_rows(db, "SELECT article_id, kind, keyword, score FROM article_keywords")),
        "topics": set(_rows(db, "SELECT article_id, topic, score, matched, why::text FROM article_topics")),
        "aliases": set(_rows(db, """SELECT e.name, a.language, a.alias, a.strength FROM entity_aliases a
                                    JOIN entities e ON e.id = a.entity_id""")),
        "tagged": set(_rows(db, "SELECT id, tagged_hash FROM articles")),
    }


@pytest.mark.parametrize("shard", [(2, 2), (-1, 2), (0, 0), (1, 1), (0, -3), "01", (0,), (0, 1, 2),
                                   (True, 2), (0.0, 2), ("0", "2"), 3])
def test_bad_shards_are_clear_errors(shard: Any) -> None:
    """An index outside 0..count-1, a count below 1 or anything but two integers is refused
    before the database is touched."""
    unreachable = Settings(database_url="postgresql://newsmon@127.0.0.1:1/unreachable")
    with pytest.raises(ValueError, match=r"shard must be \(index, count\)"):
        check_shard(shard)
    with pytest.raises(ValueError, match=r"shard must be \(index, count\)"):
        tag_articles(unreachable, shard=shard)
    with pytest.raises(ValueError, match=r"shard must be \(index, count\)"):
        tag_stage(unreachable, shard=shard)


def test_good_shards() -> None:
    assert check_shard(None) is None
    assert check_shard([0, 1]) == (0, 1)
    assert check_shard((3, 4)) == (3, 4)


def test_shards_partition_the_untagged_articles(samples_db: str) -> None:
    """Two shards select disjoint sets (by ``id % 2``) whose union is every untagged article; tagging
    one shard leaves exactly the other untagged; the two together store what one run stored."""
    settings = Settings(database_url=samples_db)
    unsharded = _tags(samples_db)
    total = _untag(samples_db)
    assert total >= 20
    with transaction(samples_db) as conn:
        everything = {r[0] for r in tag_store.untagged_articles(conn, 10_000)}
        parts = [{r[0] for r in tag_store.untagged_articles(conn, 10_000, (i, 2))} for i in range(2)]
        thirds = [{r[0] for r in tag_store.untagged_articles(conn, 10_000, (i, 3))} for i in range(3)]
    assert len(everything) == total
    assert parts[0] and parts[1] and not parts[0] & parts[1] and parts[0] | parts[1] == everything
    assert all(i % 2 == 0 for i in parts[0]) and all(i % 2 == 1 for i in parts[1])
    assert sum(map(len, thirds)) == total and set().union(*thirds) == everything

    assert tag_articles(settings, batch_size=4, shard=(0, 2)) == len(parts[0])
    left = {r[0] for r in _rows(samples_db, "SELECT id FROM articles WHERE tagged_at IS NULL")}
    assert left == parts[1]
    assert tag_articles(settings, shard=(0, 2)) == 0  # its share is done
    assert tag_stage(settings, shard=[1, 2]) == {"tagged": len(parts[1]), "seconds": pytest.approx(0, abs=60),
                                                 "shard": [1, 2]}
    assert tag_articles(settings) == 0
    assert _tags(samples_db) == unsharded


def test_concurrent_shards_in_two_processes(samples_db: str) -> None:
    """Two shards tagging at the same time, each in its own process with its own connections, both
    syncing the gazetteer and inserting the same NER-only entities: no deadlock, no unique
    violation, and the same tags as one unsharded run."""
    settings = Settings(database_url=samples_db)
    _untag(samples_db)
    assert tag_articles(settings) > 0
    unsharded = _tags(samples_db)
    total = _untag(samples_db)
    with psycopg2.connect(samples_db) as conn, conn.cursor() as cur:
        # make both shards do the contended writes: rewrite every alias, re-create NER-only entities
        cur.execute("DELETE FROM entity_aliases")
        cur.execute("DELETE FROM entities WHERE origin = 'ner'")
    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        results = list(pool.map(tag_stage, [settings, settings], [(0, 2), (1, 2)]))
    assert sorted(r["shard"] for r in results) == [[0, 2], [1, 2]]
    assert sum(r["tagged"] for r in results) == total
    assert all(r["tagged"] > 0 for r in results)
    assert _tags(samples_db) == unsharded
    assert _rows(samples_db, "SELECT count(*) FROM articles WHERE tagged_at IS NULL") == [(0,)]


def test_concurrent_gazetteer_syncs(db: str) -> None:
    """Four threads syncing the gazetteer into an empty database at once, each with its own
    connection, two of them in reverse order (as workers with different gazetteer versions might):
    no deadlock, each entity and alias is stored once, and a sync with nothing changed rewrites
    no alias."""
    from concurrent.futures import ThreadPoolExecutor

    from newsmon.tagging.entities import default_gazetteer

    entities = default_gazetteer().entities

    def sync(i: int) -> None:
        with transaction(db) as conn:
            tag_store.sync_entities(conn, entities[::-1] if i % 2 else entities)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(sync, range(4)))
    names = _rows(db, "SELECT count(*), count(DISTINCT name) FROM entities")
    assert names == [(len(entities), len(entities))]
    aliases = _rows(db, "SELECT xmin::text, entity_id, language, alias, strength FROM entity_aliases")
    assert aliases
    sync(0)
    assert _rows(db, "SELECT xmin::text, entity_id, language, alias, strength FROM entity_aliases") == aliases


def test_finish_run_sums_shard_results(db: str) -> None:
    """finish_run takes the list of shard results (tagged counts and seconds summed), and still a
    single result or a plain count."""
    settings = Settings(database_url=db)
    cases: list[tuple[Any, int, float]] = [
        ([{"tagged": 3, "seconds": 1.5, "shard": [0, 2]}, {"tagged": 4, "seconds": 2.25, "shard": [1, 2]}],
         7, 3.75),
        ({"tagged": 5, "seconds": 0.5}, 5, 0.5),
        (6, 6, 0.0),
        ([], 0, 0.0),
    ]
    for tagged, count, seconds in cases:
        run_id = uuid.uuid4().hex
        counts = finish_run(settings, "test", run_id, [], [], tagged=tagged)
        assert counts["articles_tagged"] == count
        assert _rows(db, """SELECT articles_tagged, (details -> 'stage_seconds' ->> 'tag')::float
                            FROM pipeline_runs WHERE run_id = %s""", (run_id,)) == [(count, seconds)]



@pytest.mark.parametrize("shard", [None, (1, 2)])
def test_the_tag_stage_finds_its_work_through_the_partial_index(samples_db: str,
                                                                 shard: tuple[int, int] | None) -> None:
    """untagged_articles' condition is the predicate of articles_to_tag_idx (sql/0014): with or
    without a shard, the stale-or-untagged lookup reads that index, not every article."""
    sql, params = tag_store.untagged_query(10, shard)
    conn = psycopg2.connect(samples_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.close()
    assert "articles_to_tag_idx" in plan, plan
