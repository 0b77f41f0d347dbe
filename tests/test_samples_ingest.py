"""The bundled demo site through the whole pipeline (real HTTP server, real PostgreSQL):
what ``samples/expected.yml`` states is what gets stored, and a second run adds nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml

from newsmon.core.config import Settings, load_feeds
from newsmon.pipeline.tasks import (
    finish_run,
    plan_batches,
    poll_source,
    process_entries,
    start_run,
    sync_sources,
)

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load((ROOT / "samples" / "expected.yml").read_text(encoding="utf-8"))


def _ingest(settings: Settings, force: bool = False) -> dict[str, int]:
    run_id = uuid.uuid4().hex
    start_run(settings, "test", run_id)
    names = sync_sources(settings, load_feeds(ROOT / "samples" / "feeds.yml",
                                              {"NEWSMON_SAMPLES_URL": _BASE[0]}))
    polls = [poll_source(settings, name, force=force) for name in names]
    batches = [process_entries(settings, ids) for ids in plan_batches(settings)]
    return finish_run(settings, "test", run_id, polls, batches)


_BASE: list[str] = []


@pytest.fixture(scope="module")
def ingested(database_url: str, sample_site) -> dict:
    """Empty the database, ingest the sample site twice; return both runs' counts and rows."""
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE sources, feed_entries, articles, pipeline_runs RESTART IDENTITY CASCADE")
    _BASE[:] = [sample_site.base_url]
    settings = Settings(database_url=database_url, batch_size=10, host_min_interval=0)
    first = _ingest(settings)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT canonical_url, language, title, text_source, extraction_status, text,
                              published_at, author, content_hash FROM articles""")
        cols = [d[0] for d in cur.description]
        articles = {urlsplit(r[0]).path: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
    requests_before = len(sample_site.requests)
    second = _ingest(settings, force=True)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM articles")
        count_after = cur.fetchone()[0]
        cur.execute("SELECT name, last_status, last_error FROM sources")
        sources = {r[0]: r[1:] for r in cur.fetchall()}
        cur.execute("SELECT guid, dedup, status FROM feed_entries")
        entries = {r[0]: r[1:] for r in cur.fetchall()}
    return {"first": first, "second": second, "articles": articles, "count_after": count_after,
            "sources": sources, "entries": entries,
            "second_requests": sample_site.requests[requests_before:]}


def test_run_counts_match_expectations(ingested: dict) -> None:
    """38 feed items in 3 good feeds plus one broken feed become 35 articles and 3 duplicates."""
    totals = EXPECTED["totals"]
    first = ingested["first"]
    assert first["feeds_polled"] == 4 and first["feeds_failed"] == len(EXPECTED["bad_feeds"])
    assert first["entries_new"] == totals["feed_items"]
    assert first["articles_new"] == totals["distinct_articles"]
    assert first["duplicates"] == totals["duplicates_collapsed"]
    assert first["fetch_failures"] == len(EXPECTED["dead_links"])
    assert len(ingested["articles"]) == totals["distinct_articles"]


@pytest.mark.parametrize("expected", EXPECTED["articles"], ids=lambda a: a["path"].rsplit("/", 1)[-1])
def test_each_article_is_stored_as_expected(ingested: dict, expected: dict) -> None:
    """Language, title, where the text came from, and the body's opening words, per article."""
    stored = ingested["articles"].get(expected["path"])
    assert stored is not None, f"{expected['path']} was not stored"
    assert stored["language"] == expected["language"]
    assert stored["title"] == expected["title"]
    assert stored["text_source"] == expected["text_source"]
    if expected["text_source"] == "page":
        assert stored["text"].startswith(expected["first_words"])
        assert stored["extraction_status"] == "ok"
        assert stored["author"] == expected.get("author", stored["author"])
    else:
        assert stored["extraction_status"] in ("page_unavailable", "no_article_text")
        assert len(stored["text"]) > 100


def test_duplicates_collapse_into_their_original(ingested: dict) -> None:
    """Same URL, tracking parameters and the partner copy point at the original article."""
    for dup in EXPECTED["duplicates"]:
        dedup, status = ingested["entries"][dup["guid"]]
        assert status in ("done", "failed")
        assert dedup == {"same_url": "url", "tracking_params": "url", "same_text": "exact"}[dup["kind"]]
        assert dup["path"] == dup["original"] or dup["path"] not in ingested["articles"]


def test_fallbacks_record_why(ingested: dict) -> None:
    """A 404 and a page without article text keep the feed's text and say why."""
    for path in EXPECTED["dead_links"]:
        assert ingested["articles"][path]["extraction_status"] == "page_unavailable"
    for path in EXPECTED["no_article_text"]:
        assert ingested["articles"][path]["extraction_status"] == "no_article_text"


def test_broken_feed_recorded(ingested: dict) -> None:
    """The HTML page served as a feed is an error on its source row, not a failed run."""
    status, error = ingested["sources"]["demo-broken"]
    assert status == "error" and "not a feed" in error


def test_second_run_adds_nothing_and_uses_conditional_get(ingested: dict) -> None:
    """Rerun: every feed is 304 (the broken one fails again), no page is fetched, nothing new."""
    second = ingested["second"]
    assert second["feeds_not_modified"] == 3
    assert second["entries_new"] == 0 and second["articles_new"] == 0 and second["pages_fetched"] == 0
    assert ingested["count_after"] == len(ingested["articles"])
    assert all("/feeds/" in path for path in ingested["second_requests"])


def test_updated_version_joins_the_original_story(ingested: dict, database_url: str) -> None:
    """The "MISE À JOUR" page is its own article in the same story as the original."""
    pair = EXPECTED["updated_version"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT canonical_url, story_id FROM articles""")
        story = {urlsplit(url).path: story_id for url, story_id in cur.fetchall()}
        cur.execute("SELECT count(*) FROM stories")
        stories = cur.fetchone()[0]
    assert story[pair["original"]] == story[pair["update"]]
    assert stories == EXPECTED["totals"]["distinct_articles"] - 1


def test_tagging_on_the_sample_site(ingested: dict, database_url: str) -> None:
    """Tagging the stored sample articles: no sport, economy or Ukraine-only story is matched as
    NATO–Russia; most NATO–Russia ones are, with entities and a reason; a rerun tags nothing."""
    from newsmon.pipeline.tasks import tag_articles

    settings = Settings(database_url=database_url)
    assert tag_articles(settings) == len(ingested["articles"])
    assert tag_articles(settings) == 0  # nothing stale: idempotent
    expected = {a["path"]: a["topic"] for a in EXPECTED["articles"]}
    for dup in EXPECTED["duplicates"]:  # whichever copy was stored first stands for the original
        expected.setdefault(dup["path"], expected[dup["original"]])
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT a.canonical_url, t.matched, t.why FROM article_topics t
                       JOIN articles a ON a.id = t.article_id WHERE t.topic = 'nato_russia'""")
        rows = [(urlsplit(url).path, matched, why) for url, matched, why in cur.fetchall()]
        cur.execute("""SELECT count(*) FROM article_entities ae JOIN entities e ON e.id = ae.entity_id
                       WHERE e.name IN ('NATO', 'Russia')""")
        nato_russia_mentions = cur.fetchone()[0]
    assert len(rows) == len(ingested["articles"])
    false_alarms = [path for path, matched, _ in rows if matched and expected[path] != "nato_russia"]
    assert false_alarms == []
    positives = [matched for path, matched, _ in rows if expected[path] == "nato_russia"]
    assert sum(positives) / len(positives) >= 0.8
    assert all(why for _, matched, why in rows if matched)
    assert nato_russia_mentions >= 15


def test_stories_and_analyze_commands(ingested: dict, database_url: str) -> None:
    """`newsmon stories --topic` lists NATO–Russia stories and refuses an unknown topic;
    `newsmon analyze --json` reports entities, keywords and topics of a sample page."""
    import json
    import os
    import subprocess
    import sys

    from newsmon.pipeline.tasks import tag_articles

    tag_articles(Settings(database_url=database_url))
    env = {**os.environ, "NEWSMON_DATABASE_URL": database_url}

    def newsmon(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    listed = newsmon("stories", "--topic", "nato_russia")
    assert listed.returncode == 0 and "Maîtrise des armements" in listed.stdout
    assert "Coupe de France" not in listed.stdout
    unknown = newsmon("stories", "--topic", "weather")
    assert unknown.returncode == 2 and "unknown topic 'weather'" in unknown.stderr
    page = ROOT / "samples/site/en/2026/11/nato-jets-identify-russian-aircraft-baltic.html"
    record = json.loads(newsmon("analyze", str(page), "--json").stdout)
    names = {e["name"] for e in record["entities"]}
    assert {"NATO", "Russia", "Baltic Sea"} <= names
    assert record["topics"]["nato_russia"]["matched"] is True
    assert record["topics"]["nato_russia"]["why"]
    assert any(k["kind"] == "phrase" for k in record["keywords"])


def test_readme_queries_run(ingested: dict, database_url: str) -> None:
    """Every statement of the README's "Example analyst queries" runs against the schema."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Example analyst queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()
                  and not all(line.strip().startswith("--") for line in s.strip().splitlines())]
    assert len(statements) >= 10
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            cur.fetchall()
