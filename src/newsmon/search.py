"""Full-text search over the stored articles (``newsmon search``).

Each article carries a stored ``search_vector`` (sql/0007_search.sql): title weighted A, text
weighted B, built in the text-search configuration of the article's own language
(``newsmon_ts_config``: stemming per language, accents folded). A query is parsed with
``websearch_to_tsquery``, so analysts can write ``"exact phrase"``, ``a OR b`` and ``-word``.

With ``language`` given, the query is parsed in that language's configuration and only
articles in that language are searched. Without it, every article is matched against the
query parsed in *its own* configuration. A per-row configuration cannot drive the GIN index,
so the index is probed with the OR of the query parsed in every configuration (a constant,
folded at plan time) and each candidate is then rechecked against its own language's query,
which also gives its rank. Snippets (``ts_headline``, the costly part) are computed in an outer
query over the top ``limit`` rows only.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from newsmon.db import connect
from newsmon.errors import NewsmonError
from newsmon.timeparse import since_argument

# Configurations newsmon_ts_config() can return; their OR drives the index when no language is given.
TS_CONFIGS = ("newsmon_french", "newsmon_english", "newsmon_german", "newsmon_spanish",
              "pg_catalog.russian", "newsmon_simple")
HIGHLIGHT = "**"
_HEADLINE_OPTIONS = ('StartSel="**", StopSel="**", MaxWords=30, MinWords=10, MaxFragments=2, '
                     'FragmentDelimiter=" … "')
_HEADLINE_CHARS = 20_000  # snippets are cut from the beginning of long texts only


class SearchError(NewsmonError, ValueError):
    """A search request is invalid (blank query, bad limit or language)."""


@dataclass(frozen=True)
class SearchHit:
    """One ranked article; ``snippet`` marks matched words with ``**…**``."""

    article_id: int
    story_id: int | None
    published: datetime | None  # published_at, else when the article was stored
    source: str | None
    language: str
    rank: float
    title: str | None
    snippet: str
    url: str


def _as_datetime(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_query(query: str, *, language: str | None = None, since: datetime | date | None = None,
                topic: str | None = None, source: str | None = None,
                limit: int = 20) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of a search (exposed for EXPLAIN in tests and benchmarks)."""
    if query is None or not query.strip():
        raise SearchError("the search query is empty: give one or more words, \"a phrase\", a OR b, -word")
    if limit < 1:
        raise SearchError(f"limit must be at least 1, got {limit}")
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]+)?", language):
        raise SearchError(f"language must be an ISO 639-1 code like fr or en, got {language!r}")
    params: dict[str, Any] = {"q": query.strip(), "limit": limit}
    where = ["a.retracted_at IS NULL"]
    cfg = "newsmon_ts_config(%(lang)s)" if language is not None else "newsmon_ts_config(a.language)"
    row_query = f"websearch_to_tsquery({cfg}, %(q)s)"
    if language is not None:
        params["lang"] = language.lower()
        where += [f"a.search_vector @@ {row_query}", "lower(a.language) = %(lang)s"]
    else:
        any_query = " || ".join(f"websearch_to_tsquery('{name}'::regconfig, %(q)s)" for name in TS_CONFIGS)
        where += [f"a.search_vector @@ ({any_query})", f"a.search_vector @@ {row_query}"]
    if since is not None:
        params["since"] = _as_datetime(since)
        where.append("COALESCE(a.published_at, a.created_at) >= %(since)s")
    if topic is not None:
        params["topic"] = topic
        where.append("EXISTS (SELECT 1 FROM article_topics t "
                     "WHERE t.article_id = a.id AND t.topic = %(topic)s AND t.matched)")
    if source is not None:
        params["source"] = source
        where.append("a.source_id IN (SELECT id FROM sources WHERE name = %(source)s)")
    sql = f"""
        WITH top AS MATERIALIZED (
            SELECT a.id, ts_rank(a.search_vector, {row_query}, 1) AS rank,
                   COALESCE(a.published_at, a.created_at) AS seen_at
            FROM articles a
            WHERE {" AND ".join(where)}
            ORDER BY rank DESC, seen_at DESC, a.id DESC
            LIMIT %(limit)s
        )
        SELECT a.id, a.story_id, top.seen_at, s.name, a.language, top.rank, a.title,
               ts_headline({cfg}, left(a.text, {_HEADLINE_CHARS}), {row_query}, '{_HEADLINE_OPTIONS}'),
               a.url
        FROM top
        JOIN articles a ON a.id = top.id
        LEFT JOIN sources s ON s.id = a.source_id
        ORDER BY top.rank DESC, top.seen_at DESC, a.id DESC"""
    return sql, params


def search(dsn: str, query: str, *, language: str | None = None, since: datetime | date | None = None,
           topic: str | None = None, source: str | None = None, limit: int = 20) -> list[SearchHit]:
    """Ranked articles matching ``query`` (web search syntax), best first.

    Only the latest version of each article is searched (the ``articles`` table; older
    versions live in ``article_versions``) and retracted articles never appear. ``since``
    applies to the publication time, else the time the article was stored; ``topic`` keeps
    articles matched to that topic; ``source`` is a source name.
    """
    sql, params = build_query(query, language=language, since=since, topic=topic, source=source,
                              limit=limit)
    conn = connect(dsn, application_name="newsmon-search")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
    finally:
        conn.close()
    return [SearchHit(article_id=r[0], story_id=r[1], published=r[2], source=r[3], language=r[4],
                      rank=float(r[5]), title=r[6], snippet=" ".join((r[7] or "").split()), url=r[8])
            for r in rows]


# -- command line -------------------------------------------------------------------------------

def format_hits(hits: list[SearchHit]) -> str:
    """The ranked table the CLI prints."""
    from newsmon.reports import format_table

    rows = [(i, f"{h.rank:.3f}", h.published.strftime("%Y-%m-%d %H:%M") if h.published else "",
             h.language, h.source or "", h.story_id or "", h.title or "(untitled)", h.snippet)
            for i, h in enumerate(hits, 1)]
    table = format_table(["#", "rank", "published", "lang", "source", "story", "title", "snippet"],
                         rows, max_width=70)
    return table + "\n\n" + "\n".join(f"{i}. {h.url}" for i, h in enumerate(hits, 1))


def cmd_search(args: argparse.Namespace) -> int:
    from newsmon.config import Settings

    settings = Settings.from_env(database_url=getattr(args, "database_url", None))
    hits = search(settings.database_url, args.query, language=args.lang, since=args.since,
                  topic=args.topic, source=args.source, limit=args.limit)
    if not hits:
        print(f"no article matches {args.query!r}")
        return 0
    print(format_hits(hits))
    return 0


def register(subparsers: Any) -> None:
    """Add the ``search`` subcommand to an argparse subparsers object (see cli.build_parser)."""
    p = subparsers.add_parser("search", help="full-text search over articles (ranked, with snippets)",
                              description='Web search syntax: words, "a phrase", a OR b, -word.')
    p.add_argument("query", help='words, "a phrase", a OR b, -word')
    p.add_argument("--lang", default=None,
                   help="only articles in this language (ISO 639-1), query parsed in its configuration")
    p.add_argument("--since", type=since_argument, default=None,
                   help="only articles published since: YYYY-MM-DD, an ISO time, or a duration like 7d")
    p.add_argument("--topic", help="only articles matching this topic")
    p.add_argument("--source", help="only articles from this source (its name)")
    p.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    p.set_defaults(func=cmd_search)
