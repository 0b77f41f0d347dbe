"""Stories in PostgreSQL: near-duplicates join across loads, batches and workers; versions of
one URL are kept; reprocessing changes nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from newsmon.articles.hashing import content_hash
from newsmon.articles.store import ArticleCandidate
from newsmon.core.db import transaction
from newsmon.stories.neardup import fingerprint
from newsmon.stories.store import load_articles

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DISPATCH = """VILNIUS, Nov 24, 2026 (AFP) - Lithuania asked its NATO allies on Tuesday to extend air
policing over the Baltic states through the winter after three incidents involving military aircraft
flying without transponders near the border with the Russian exclave of Kaliningrad. "We expect a clear
answer before the end of the month," the defence minister told reporters in Vilnius, adding that
Latvia and Estonia supported the request. The alliance currently rotates four fighter jets through
Siauliai air base. Moscow has denied any violation of allied airspace and accused the alliance of
staging provocations near its borders, the foreign ministry said in a statement on Tuesday evening."""
OTHER_SAME_SUBJECT = """RIGA, Nov 24, 2026 (AFP) - Latvia will buy six more coastal radars to watch the
Baltic Sea after a series of incidents with ships whose transponders were switched off, the defence
ministry in Riga said on Tuesday. The contract, worth 40 million euros, is part of a plan to cover the
whole coastline by 2028. Officials said the radars would share data with NATO's air and sea
surveillance centres and with neighbouring Estonia and Lithuania, which are buying similar systems."""


def _candidate(url: str, text: str, title: str, published: datetime,
               source: str = "page") -> ArticleCandidate:
    return ArticleCandidate(
        canonical_url=url, url=url, source_id=None, title=title, text=text, author=None, language="en",
        language_prob=1.0, language_method="detected", published_at=published, fetched_at=published,
        content_hash=content_hash(text), text_source=source, extraction_status="ok",
        fingerprint=fingerprint(text))


def _load(db: str, candidates: list[ArticleCandidate]):
    with transaction(db) as conn:
        return load_articles(conn, candidates)


def _rows(db: str, sql: str, *args: object) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_partner_rewrite_joins_story_across_loads(db: str) -> None:
    """A later, lightly edited copy under another URL joins the first story; the earliest article
    represents it; a different story on the same subject and day stays apart."""
    first = _load(db, [_candidate("https://a.example/1", DISPATCH, "Lithuania asks NATO", T0)])
    assert first[0].story_new and first[0].story_join == "first"
    edited = DISPATCH.replace("on Tuesday", "on Tuesday morning").replace("four fighter jets", "four jets")
    second = _load(db, [_candidate("https://b.example/x", "Read also: our Baltic coverage.\n" + edited,
                                   "Lithuania asks allies to extend air policing", T0 + timedelta(hours=2)),
                        _candidate("https://c.example/radar", OTHER_SAME_SUBJECT, "Latvia buys radars", T0)])
    assert second[0].story_id == first[0].story_id and second[0].story_join == "near"
    assert second[1].story_new and second[1].story_id != first[0].story_id
    story = _rows(db, """SELECT article_count, representative_article_id, first_seen_at, last_seen_at
                         FROM stories WHERE id = %s""", first[0].story_id)[0]
    assert story == (2, first[0].article_id, T0, T0 + timedelta(hours=2))
    members = _rows(db, "SELECT position, story_join FROM story_members WHERE story_id = %s ORDER BY 1",
                    first[0].story_id)
    assert members == [(1, "first"), (2, "near")]


def test_near_duplicates_in_one_batch_share_a_story(db: str) -> None:
    """Two copies arriving in the same batch: the second joins the story the first starts."""
    teaser = DISPATCH[: len(DISPATCH) * 2 // 3]
    out = _load(db, [_candidate("https://a.example/1", DISPATCH, "t", T0),
                     _candidate("https://b.example/2", teaser, "t", T0)])
    assert out[0].story_new and not out[1].story_new
    assert out[0].story_id == out[1].story_id and out[1].story_join == "near"
    assert _rows(db, "SELECT count(*) FROM stories") == [(1,)]


def test_changed_text_under_same_url_is_a_version(db: str) -> None:
    """Same canonical URL, new page text: one article, version 2, the old text in article_versions."""
    first = _load(db, [_candidate("https://a.example/1", DISPATCH, "Lithuania asks NATO", T0)])
    updated = DISPATCH + "\nUPDATE: NATO said late on Tuesday it would answer the request on Friday."
    out = _load(db, [_candidate("https://a.example/1", updated, "UPDATE - Lithuania asks NATO", T0)])
    assert out[0].dedup == "url" and out[0].new_version and out[0].updated
    assert out[0].article_id == first[0].article_id and out[0].story_id == first[0].story_id
    assert _rows(db, "SELECT version, title FROM articles") == [(2, "UPDATE - Lithuania asks NATO")]
    versions = _rows(db, "SELECT version, title, text, changes->>'title_changed' FROM article_versions")
    assert versions == [(1, "Lithuania asks NATO", DISPATCH, "true")]
    # the same update again is not another version
    again = _load(db, [_candidate("https://a.example/1", updated, "UPDATE - Lithuania asks NATO", T0)])
    assert not again[0].new_version and _rows(db, "SELECT count(*) FROM article_versions") == [(1,)]


def test_feed_text_replaced_by_page_is_not_a_version(db: str) -> None:
    """A page fetched after a feed-only article upgrades the text without a version row."""
    _load(db, [_candidate("https://a.example/1", DISPATCH[:400], "t", T0, source="feed")])
    out = _load(db, [_candidate("https://a.example/1", DISPATCH, "t", T0)])
    assert out[0].updated and not out[0].new_version
    assert _rows(db, "SELECT version, text_source FROM articles") == [(1, "page")]
    assert _rows(db, "SELECT count(*) FROM article_versions") == [(0,)]
    fp_shingles = _rows(db, "SELECT shingles FROM article_fingerprints")[0][0]
    assert fp_shingles == fingerprint(DISPATCH).shingles  # the fingerprint follows the text


def test_reprocessing_is_idempotent(db: str) -> None:
    """Loading the same candidates twice adds no article, story, version or fingerprint."""
    batch = [_candidate("https://a.example/1", DISPATCH, "t", T0),
             _candidate("https://c.example/radar", OTHER_SAME_SUBJECT, "r", T0)]
    _load(db, batch)
    counts = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM stories), " \
             "(SELECT count(*) FROM article_versions), (SELECT count(*) FROM article_fingerprints)"
    before = _rows(db, counts)
    again = _load(db, batch)
    assert [o.dedup for o in again] == ["url", "url"] and not any(o.story_new for o in again)
    assert _rows(db, counts) == before


@pytest.mark.parametrize("round_", range(3))
def test_two_workers_with_copies_make_one_story(db: str, round_: int) -> None:
    """Two workers loading copies of one dispatch at the same moment create a single story."""
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def worker(name: str, url: str, text: str) -> None:
        barrier.wait()
        try:
            results[name] = _load(db, [_candidate(url, text, "Lithuania asks NATO", T0)])
        except Exception as exc:  # reported by the assertion below
            results[name] = exc

    copy = "Lire aussi : notre dossier.\n" + DISPATCH
    threads = [threading.Thread(target=worker, args=("a", f"https://a.example/{round_}", DISPATCH)),
               threading.Thread(target=worker, args=("b", f"https://b.example/{round_}", copy))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, list) for r in results.values()), results
    assert results["a"][0].story_id == results["b"][0].story_id
    assert _rows(db, "SELECT count(*), count(DISTINCT story_id) FROM articles") == [(2, 1)]


def test_two_new_texts_of_one_article_in_one_batch_are_two_versions(db: str) -> None:
    """Two files with one canonical URL and different texts in one batch (a rerun of an import
    holding a page and its edited copy): both updates apply in order, as two loads would, with
    no duplicate fingerprint (this failed with a primary-key violation)."""
    first = _load(db, [_candidate("https://a.example/1", DISPATCH, "Lithuania asks NATO", T0)])
    second = DISPATCH + "\nUPDATE: NATO said late on Tuesday it would answer the request on Friday."
    third = second + "\nUPDATE 2: The answer was postponed to the defence ministers' meeting."
    out = _load(db, [_candidate("https://a.example/1", second, "UPDATE - Lithuania asks NATO", T0),
                     _candidate("https://a.example/1", third, "UPDATE 2 - Lithuania asks NATO", T0)])
    assert [o.article_id for o in out] == [first[0].article_id] * 2
    assert all(o.new_version for o in out)
    assert _rows(db, "SELECT version, title, text FROM articles") == \
        [(3, "UPDATE 2 - Lithuania asks NATO", third)]
    assert _rows(db, "SELECT version FROM article_versions ORDER BY version") == [(1,), (2,)]
    assert _rows(db, "SELECT count(*) FROM article_fingerprints") == [(1,)]
    assert _rows(db, "SELECT shingles FROM article_fingerprints") == [(fingerprint(third).shingles,)]
