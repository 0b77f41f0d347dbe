"""``newsmon export``: stream a view, a table or a read-only query to CSV or JSON Lines.

The rows come through a named (server-side) cursor fetched ``itersize`` rows at a time, so the
memory stays flat however many rows the export has. Queries run in a READ ONLY transaction;
view and table names are checked against the catalog and quoted.

    newsmon export story_overview --format jsonl --since 7d --output stories.jsonl
    newsmon export "SELECT source, health FROM feed_health" --format csv
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from newsmon.core.errors import NewsmonError
from newsmon.core.timeparse import since_argument

TIME_COLUMNS = ("published_at", "seen_at", "created_at", "first_seen_at", "day", "started_at")
ITERSIZE = 2000
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_QUERY = re.compile(r"\s*(?:\(\s*)*(select|with)\b", re.IGNORECASE)


def _strip_literals(query: str) -> str:
    """``query`` without its string literals, quoted identifiers and comments."""
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", " ", query, flags=re.DOTALL)


def is_query(target: str) -> bool:
    return bool(_QUERY.match(_strip_literals(target)))


def _check_query(query: str) -> str:
    query = query.strip().rstrip(";").strip()
    if ";" in _strip_literals(query):
        raise NewsmonError("only one statement can be exported (the query contains ';')")
    return query


def _relation_kind(cur: Any, name: str) -> str | None:
    cur.execute("""SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relname = %s
                     AND c.relkind IN ('r', 'v', 'm', 'p', 'f')""",
                (name,))
    row = cur.fetchone()
    return row[0] if row else None


def _relations(cur: Any) -> list[str]:
    cur.execute("""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm') ORDER BY 1""")
    return [row[0] for row in cur.fetchall()]


def build_query(conn: psycopg2.extensions.connection, target: str,
                since: datetime | None = None) -> tuple[sql.Composable, dict[str, Any]]:
    """The statement to stream for ``target`` (a public table/view name or a SELECT/WITH query),
    filtered on its time column when ``since`` is given. Raises NewsmonError on a bad target."""
    with conn.cursor() as cur:
        if is_query(target):
            query = _check_query(target).replace("%", "%%")  # literal: params are always a dict
            source: sql.Composable = sql.SQL("({}) AS q").format(sql.SQL(query))
            label = "the query"
        elif _IDENTIFIER.fullmatch(target.strip()):
            name = target.strip()
            if _relation_kind(cur, name) is None:
                views = _relations(cur)
                raise NewsmonError(f"unknown view or table {name!r} in the public schema; views: "
                                   f"{', '.join(views) or 'none (run newsmon migrate)'}")
            source = sql.Identifier(name)
            label = f"view {name!r}"
        else:
            raise NewsmonError(f"{target.split()[0] if target.split() else target!r}: only a view or table "
                               "name or a read-only SELECT/WITH query can be exported")
        statement = sql.SQL("SELECT * FROM {}").format(source)
        if since is None:
            return statement, {}
        try:
            cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(source), {})
        except psycopg2.Error as exc:
            raise _query_error(exc) from None
        columns = [d.name for d in cur.description]
    column = next((c for c in TIME_COLUMNS if c in columns), None)
    if column is None:
        raise NewsmonError(f"--since: {label} has no time column (one of {', '.join(TIME_COLUMNS)}); "
                           f"its columns: {', '.join(columns)}")
    return (sql.SQL("SELECT * FROM {} WHERE {} >= %(since)s").format(source, sql.Identifier(column)),
            {"since": since})


def _query_error(exc: psycopg2.Error) -> NewsmonError:
    if isinstance(exc, psycopg2.errors.ReadOnlySqlTransaction):
        return NewsmonError("the query tries to write: only read-only queries can be exported")
    message = (exc.diag.message_primary or exc.pgerror or str(exc)).strip().replace("\n", " ")
    return NewsmonError(f"the export query failed: {message}")


def estimate_rows(conn: psycopg2.extensions.connection, statement: sql.Composable,
                  params: dict[str, Any]) -> int | None:
    """The planner's row estimate (cheap: no execution), or None."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, params)
            plan = cur.fetchone()[0]
    except psycopg2.Error as exc:
        raise _query_error(exc) from None
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows = plan[0]["Plan"].get("Plan Rows")
    return int(rows) if rows is not None else None


def stream_rows(conn: psycopg2.extensions.connection, statement: sql.Composable, params: dict[str, Any],
                itersize: int = ITERSIZE) -> tuple[list[str], Iterator[tuple[Any, ...]], Any]:
    """Open a named cursor on ``statement``: (column names, row iterator, the cursor)."""
    cur = conn.cursor(name=f"newsmon_export_{uuid.uuid4().hex[:12]}")
    cur.itersize = itersize
    try:
        cur.execute(statement, params)
        first = cur.fetchone()  # a named cursor has its description after the first fetch
    except psycopg2.Error as exc:
        raise _query_error(exc) from None
    columns = [d.name for d in cur.description]

    def rows() -> Iterator[tuple[Any, ...]]:
        if first is None:
            return
        yield first
        try:
            yield from cur
        except psycopg2.Error as exc:
            raise _query_error(exc) from None

    return columns, rows(), cur


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def csv_value(value: Any) -> Any:
    """A cell: '' for NULL, ISO-8601 times, JSON for arrays and JSON(B) values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str | int | float):
        return "" if value is None else value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).hex()
    return str(value)


def write_rows(out: IO[str], fmt: str, columns: Sequence[str], rows: Iterator[tuple[Any, ...]],
               progress: Any = None, batch: int = ITERSIZE) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        simple = (str, int, float)
        for row in rows:
            writer.writerow([v if type(v) in simple else csv_value(v) for v in row])
            count += 1
            if progress is not None and count % batch == 0:
                progress.update(batch)
    elif fmt == "jsonl":
        dumps = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
        for row in rows:
            out.write(dumps(dict(zip(columns, row, strict=True))))
            out.write("\n")
            count += 1
            if progress is not None and count % batch == 0:
                progress.update(batch)
    else:
        raise NewsmonError(f"unknown format {fmt!r}: csv or jsonl")
    if progress is not None:
        progress.update(count % batch)
    return count


def export(dsn: str, target: str, fmt: str, out: IO[str], since: datetime | None = None,
           progress: bool | None = False, itersize: int = ITERSIZE) -> int:
    """Write ``target`` (view/table name or SELECT/WITH query) to ``out``; returns the row count."""
    from newsmon.core.db import connect

    if fmt not in ("csv", "jsonl"):
        raise NewsmonError(f"unknown format {fmt!r}: csv or jsonl")
    conn = connect(dsn, application_name="newsmon-export")
    try:
        conn.set_session(readonly=True, autocommit=False)
        statement, params = build_query(conn, target, since)
        bar = None
        if progress is not False:
            from tqdm import tqdm

            bar = tqdm(total=estimate_rows(conn, statement, params), unit=" rows", file=sys.stderr,
                       disable=None if progress is None else False, unit_scale=True)
        try:
            columns, rows, cur = stream_rows(conn, statement, params, itersize)
            count = write_rows(out, fmt, columns, rows, bar)
            cur.close()
        finally:
            if bar is not None:
                bar.close()
        conn.rollback()
        return count
    finally:
        conn.close()


def cmd_export(args: argparse.Namespace) -> int:
    from newsmon.core.config import Settings

    dsn = Settings.from_env(database_url=getattr(args, "database_url", None)).database_url
    progress = False if args.no_progress else None
    if args.output and args.output != "-":
        path = Path(args.output)
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                count = export(dsn, args.target, args.format, out, args.since, progress)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        where = str(path)
    else:
        count = export(dsn, args.target, args.format, sys.stdout, args.since, progress)
        sys.stdout.flush()
        where = "stdout"
    print(f"exported {count} row(s) to {where}", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Add ``export`` to the ``newsmon`` subcommands."""
    p = subparsers.add_parser("export", help="stream a view, table or read-only query to CSV or JSON Lines")
    p.add_argument("target", metavar="VIEW_OR_QUERY",
                   help="a view/table of the public schema, or a read-only SELECT/WITH query")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--since", type=since_argument, default=None,
                   help="only rows since (on the first time column): YYYY-MM-DD, an ISO time, or 24h, 7d")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)
