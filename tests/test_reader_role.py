"""newsmon_reader, the analysts' role, can read the analyst tables and views and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest
from psycopg2 import errors, sql

ANALYST_TABLES = ["articles", "stories", "sources", "feed_entries", "article_versions", "entities",
                  "entity_aliases", "article_entities", "article_keywords", "article_topics", "pipeline_runs",
                  "article_search", "events", "event_stories", "event_splits"]
ANALYST_VIEWS = ["story_overview", "story_members", "duplicates_per_source", "feed_health", "topic_articles",
                 "entity_mentions_daily", "entity_cooccurrence", "alert_status", "pipeline_run_trends",
                 "article_overview", "topic_stories", "event_overview", "event_language_coverage"]
NOT_GRANTED = ["alerts", "alert_digests", "alert_deliveries", "ops_notifications", "host_robots",
               "schema_migrations", "article_fingerprints", "article_bands", "event_keys"]


@pytest.fixture
def reader(database_url: str) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(database_url, user="newsmon_reader", connect_timeout=10)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def _run(conn, query: sql.Composable | str) -> None:
    with conn.cursor() as cur:
        cur.execute(query)
        if cur.description is not None:
            cur.fetchall()


def test_role_is_read_only_login_role(database_url: str) -> None:
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole
                           FROM pg_roles WHERE rolname = 'newsmon_reader'""")
            assert cur.fetchone() == (True, False, False, False)
    finally:
        conn.close()


@pytest.mark.parametrize("name", ANALYST_TABLES + ANALYST_VIEWS)
def test_select_on_analyst_tables_and_views(reader, name: str) -> None:
    _run(reader, sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(name)))


@pytest.mark.parametrize("statement", [
    "INSERT INTO articles (canonical_url, url, text_source, extraction_status) "
    "VALUES ('https://x.test/a', 'https://x.test/a', 'file', 'ok')",
    "UPDATE articles SET title = 'x'",
    "DELETE FROM articles",
    "TRUNCATE articles",
])
def test_writes_are_refused(reader, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        _run(reader, statement)


@pytest.mark.parametrize("name", NOT_GRANTED)
def test_operational_tables_are_not_readable(reader, name: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        _run(reader, sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(name)))


def test_cannot_create_objects(reader) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        _run(reader, "CREATE TABLE public.reader_scratch (id integer)")
    with pytest.raises(errors.InsufficientPrivilege):
        _run(reader, "CREATE VIEW public.reader_scratch_v AS SELECT 1 AS one")


def test_privileges_match_the_grant_list(database_url: str) -> None:
    """Exactly SELECT on the analyst relations: a new grant (or a forgotten revoke) shows up here."""
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT table_name, privilege_type FROM information_schema.role_table_grants
                           WHERE grantee = 'newsmon_reader' AND table_schema = 'public'""")
            grants = sorted(cur.fetchall())
    finally:
        conn.close()
    assert grants == sorted((name, "SELECT") for name in ANALYST_TABLES + ANALYST_VIEWS)
