"""Full-text search over the stored articles (``newsmon search``).

Each current, non-retracted article has a row in ``article_search`` (sql/0011): its vector
(title weighted A, text weighted B) built in the text-search configuration of the article's own
language (``newsmon_ts_config``: stemming per language, accents folded), next to the few columns
filters need. A query is parsed with ``websearch_to_tsquery``, so analysts can write
``"exact phrase"``, ``a OR b`` and ``-word``.

Without ``language``, the query is parsed once per configuration (constants, folded at plan
time) and each article is matched against the query of *its own* configuration: one partial GIN
index per configuration answers ``config = X AND vector @@ query_X`` exactly, so no candidate is
rechecked. With ``language``, only that configuration's index is probed.

Ranking detoasts each candidate's vector, which is what costs on a common term (a third of the
archive can match). So ``ts_rank`` runs on the ``rank_window`` most recent matches (default
5,000; ``None`` or 0 ranks every match) and the best ``limit`` of those are returned; the total
number of matches is always reported. Snippets (``ts_headline``) are cut for the returned rows
only.

"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from newsmon.core.db import connect
from newsmon.core.errors import NewsmonError
from newsmon.core.timeparse import since_argument

# Configurations newsmon_ts_config() can return; their OR drives the index when no language is given.
TS_CONFIGS = ("newsmon_french", "newsmon_english", "newsmon_german", "newsmon_spanish",
              "pg_catalog.russian", "newsmon_simple")
HIGHLIGHT = "**"
_HEADLINE_OPTIONS = ('StartSel="**", StopSel="**", MaxWords=30, MinWords=10, MaxFragments=2, '
                     'FragmentDelimiter=" … "')
_HEADLINE_CHARS = 20_000  # snippets are cut from the beginning of long texts only
DEFAULT_RANK_WINDOW = 5_000  # most recent matches ranked; measured in benchmarks/bench_search.py


class SearchError(NewsmonError, ValueError):
    """A search request is invalid (blank query, bad limit, window or language)."""


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


@dataclass(frozen=True)
class SearchResults:
    """The best ``hits``; ``matches`` articles matched, the ``ranked`` most recent were ranked."""

    hits: list[SearchHit]
    matches: int
    ranked: int

    @property
    def windowed(self) -> bool:
        """True when some matches were too old to be ranked (see ``rank_window``)."""
        return self.ranked < self.matches


def _as_datetime(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _config_query(config: str) -> str:
    return f"websearch_to_tsquery('{config}'::regconfig, %(q)s)"


def _per_config_query(column: str) -> str:
    """The query parsed in the configuration held by ``column`` (a CASE over constants)."""
    return (f"CASE {column} " + " ".join(f"WHEN '{c}'::regconfig THEN {_config_query(c)}" for c in TS_CONFIGS)
            + " END")


def build_query(query: str, *, language: str | None = None, since: datetime | date | None = None,
                topic: str | None = None, source: str | None = None, limit: int = 20,
                rank_window: int | None = DEFAULT_RANK_WINDOW) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of a search (exposed for EXPLAIN in tests and benchmarks).

    Rows: article id, story id, seen at, source, language, rank, title, snippet, url, and the
    number of matches (the same on every row).
    """
    if query is None or not query.strip():
        raise SearchError("the search query is empty: give one or more words, \"a phrase\", a OR b, -word")
    if limit < 1:
        raise SearchError(f"limit must be at least 1, got {limit}")
    if rank_window is not None and rank_window < 0:
        raise SearchError(f"rank window must be 0 (rank every match) or more, got {rank_window}")
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]+)?", language):
        raise SearchError(f"language must be an ISO 639-1 code like fr or en, got {language!r}")
    params: dict[str, Any] = {"q": query.strip(), "limit": limit,
                              "window": rank_window if rank_window else None}
    where: list[str] = []
    if language is not None:
        params["lang"] = language.lower()
        # newsmon_ts_config() of a literal folds to a constant: the matching partial index is used.
        where += ["s.config = newsmon_ts_config(%(lang)s)",
                  "s.vector @@ websearch_to_tsquery(newsmon_ts_config(%(lang)s), %(q)s)",
                  "lower(s.language) = %(lang)s"]
        rank_query = headline_query = "websearch_to_tsquery(newsmon_ts_config(%(lang)s), %(q)s)"
    else:
        where.append("(" + "\n               OR ".join(
            f"(s.config = '{c}'::regconfig AND s.vector @@ {_config_query(c)})" for c in TS_CONFIGS) + ")")
        rank_query, headline_query = _per_config_query("s.config"), _per_config_query("top.config")
    if since is not None:
        params["since"] = _as_datetime(since)
        where.append("s.seen_at >= %(since)s")
    if topic is not None:
        params["topic"] = topic
        where.append("s.article_id IN (SELECT article_id FROM article_topics "
                     "WHERE topic = %(topic)s AND matched)")
    if source is not None:
        params["source"] = source
        where.append("s.source_id IN (SELECT id FROM sources WHERE name = %(source)s)")
    sql = f"""
        WITH matches AS MATERIALIZED (
            SELECT s.ctid AS row, s.article_id, s.seen_at
            FROM article_search s
            WHERE {" AND ".join(where)}
        ), recent AS (
            SELECT row, article_id, seen_at FROM matches
            ORDER BY seen_at DESC, article_id DESC
            LIMIT %(window)s
        ), top AS MATERIALIZED (
            SELECT r.article_id, r.seen_at, s.config, ts_rank(s.vector, {rank_query}, 1) AS rank
            FROM recent r JOIN article_search s ON s.ctid = r.row
            ORDER BY rank DESC, r.seen_at DESC, r.article_id DESC
            LIMIT %(limit)s
        )
        SELECT a.id, a.story_id, top.seen_at, src.name, a.language, top.rank, a.title,
               ts_headline(top.config, left(a.text, {_HEADLINE_CHARS}),
                           {headline_query}, '{_HEADLINE_OPTIONS}'),
               a.url, (SELECT count(*) FROM matches)
        FROM top
        JOIN articles a ON a.id = top.article_id
        LEFT JOIN sources src ON src.id = a.source_id
        ORDER BY top.rank DESC, top.seen_at DESC, a.id DESC"""
    return sql, params


def search(dsn: str, query: str, *, language: str | None = None, since: datetime | date | None = None,
           topic: str | None = None, source: str | None = None, limit: int = 20,
           rank_window: int | None = DEFAULT_RANK_WINDOW) -> SearchResults:
    """Ranked articles matching ``query`` (web search syntax), best first.

    Only the latest version of each article is searched (older versions live in
    ``article_versions``) and retracted articles never appear. ``since`` applies to the
    publication time, else the time the article was stored; ``topic`` keeps articles matched to
    that topic; ``source`` is a source name. ``rank_window`` bounds ranking to the most recent
    matches (``None`` or 0: rank all).
    """
    sql, params = build_query(query, language=language, since=since, topic=topic, source=source,
                              limit=limit, rank_window=rank_window)
    conn = connect(dsn, application_name="newsmon-search")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
    finally:
        conn.close()
    hits = [SearchHit(article_id=r[0], story_id=r[1], published=r[2], source=r[3], language=r[4],
                      rank=float(r[5]), title=r[6], snippet=" ".join((r[7] or "").split()), url=r[8])
            for r in rows]
    matches = int(rows[0][9]) if rows else 0
    ranked = min(matches, rank_window) if rank_window else matches
    return SearchResults(hits=hits, matches=matches, ranked=ranked)


# -- command line -------------------------------------------------------------------------------

def format_hits(hits: list[SearchHit]) -> str:
    """The ranked table the CLI prints."""
    from newsmon.analysts.reports import format_table

    rows = [(i, f"{h.rank:.3f}", h.published.strftime("%Y-%m-%d %H:%M") if h.published else "",
             h.language, h.source or "", h.story_id or "", h.title or "(untitled)", h.snippet)
            for i, h in enumerate(hits, 1)]
    table = format_table(["#", "rank", "published", "lang", "source", "story", "title", "snippet"],
                         rows, max_width=70)
    return table + "\n\n" + "\n".join(f"{i}. {h.url}" for i, h in enumerate(hits, 1))


def cmd_search(args: argparse.Namespace) -> int:
    from newsmon.core.config import Settings

    settings = Settings.from_env(database_url=getattr(args, "database_url", None))
    result = search(settings.database_url, args.query, language=args.lang, since=args.since,
                    topic=args.topic, source=args.source, limit=args.limit,
                    rank_window=args.rank_window)
    if not result.hits:
        print(f"no article matches {args.query!r}")
        return 0
    print(format_hits(result.hits))
    print()
    print(summary_line(result))
    return 0


def summary_line(result: SearchResults) -> str:
    """What was matched and what was ranked, e.g. for a common term over a large archive."""
    line = f"{result.matches:,} matching article(s); showing the best {len(result.hits)}"
    if result.windowed:
        line += (f" of the {result.ranked:,} most recent (older matches were not ranked: "
                 "narrow the query, add --since, or pass --rank-window 0 to rank them all)")
    return line


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
    p.add_argument("--rank-window", type=int, default=DEFAULT_RANK_WINDOW, metavar="N",
                   help=f"rank only the N most recent matches (default {DEFAULT_RANK_WINDOW:,}; "
                        "0 ranks every match, slower on common terms)")
    p.set_defaults(func=cmd_search)
