"""``newsmon export`` against a real PostgreSQL: views and queries in CSV and JSON Lines, --since,
clear errors, a server-side cursor and flat memory on many rows."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest

from newsmon.analysts.export import build_query, csv_value, export, stream_rows
from newsmon.core.errors import NewsmonError
from newsmon.core.timeparse import parse_since

ROOT = Path(__file__).resolve().parents[1]


def _direct(dsn: str, query: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return [d.name for d in cur.description], cur.fetchall()


def _cli(dsn: str, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsmon", "--database-url", dsn, "export", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_view_as_csv_matches_a_direct_query(samples_db: str) -> None:
    out = io.StringIO()
    count = export(samples_db, "story_members", "csv", out)
    columns, rows = _direct(samples_db, "SELECT * FROM story_members")
    assert count == len(rows) > 10
    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    assert parsed[0] == columns
    expected = sorted([str(csv_value(v)) for v in row] for row in rows)
    assert sorted(parsed[1:]) == expected


def test_view_as_jsonl_matches_a_direct_query(samples_db: str) -> None:
    out = io.StringIO()
    count = export(samples_db, "story_overview", "jsonl", out)
    columns, rows = _direct(samples_db, "SELECT * FROM story_overview")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(records) == len(rows) > 5
    by_id = {r["story_id"]: r for r in records}
    for row in rows:
        record = by_id[row[0]]
        assert list(record) == columns
        assert record["title"] == row[1]
        assert datetime.fromisoformat(record["first_seen_at"]) == row[2]
        assert record["languages"] == row[columns.index("languages")]


def test_jsonb_is_nested_json_and_dates_iso(samples_db: str) -> None:
    out = io.StringIO()
    export(samples_db, "SELECT article_id, why, seen_at FROM topic_articles", "jsonl", out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records, "the sample site has topic matches"
    assert all(isinstance(r["why"], dict | list) for r in records)
    assert all(datetime.fromisoformat(r["seen_at"]).tzinfo is not None for r in records)


def test_query_and_since(samples_db: str) -> None:
    out = io.StringIO()
    assert export(samples_db, "WITH x AS (SELECT id, title FROM articles) SELECT * FROM x ORDER BY id",
                  "csv", out) == _direct(samples_db, "SELECT count(*) FROM articles")[1][0][0]
    _, rows = _direct(samples_db,
                      "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY seen_at) FROM story_members")
    middle = rows[0][0]
    query = "SELECT count(*) FROM story_members WHERE seen_at >= %s"
    expected = _direct(samples_db, query, (middle,))[1][0][0]
    out = io.StringIO()
    assert export(samples_db, "story_members", "jsonl", out, since=middle) == expected
    assert 0 < expected < _direct(samples_db, "SELECT count(*) FROM story_members")[1][0][0]
    assert all(datetime.fromisoformat(json.loads(line)["seen_at"]) >= middle
               for line in out.getvalue().splitlines())
    # the CLI with a day and a file
    result = _cli(samples_db, "story_members", "--since", middle.date().isoformat(), "--format", "csv",
                  "--output", "/dev/null", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "exported" in result.stderr


def test_parse_since() -> None:
    """The shared --since/--until parser: dates, ISO times, durations; a clear error otherwise."""
    assert parse_since("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_since("2w", now=datetime(2026, 11, 25, tzinfo=UTC)) == datetime(2026, 11, 11, tzinfo=UTC)
    assert (datetime.now(UTC) - parse_since("24h")).total_seconds() == pytest.approx(86400, abs=60)
    with pytest.raises(Exception, match="expected"):
        parse_since("yesterday")


def test_since_without_time_column_is_an_error(samples_db: str) -> None:
    with pytest.raises(NewsmonError, match="no time column"):
        export(samples_db, "feed_health", "csv", io.StringIO(), since=parse_since("7d"))


def test_cli_errors(samples_db: str, tmp_path: Path) -> None:
    result = _cli(samples_db, "no_such_view")
    assert result.returncode == 2 and "unknown view" in result.stderr and "story_overview" in result.stderr
    result = _cli(samples_db, "DELETE FROM articles")
    assert result.returncode == 2 and "SELECT" in result.stderr
    result = _cli(samples_db, "SELECT FROM WHERE oops")
    assert result.returncode == 2 and "syntax error" in result.stderr
    result = _cli(samples_db, "SELECT 1; DELETE FROM articles")
    assert result.returncode == 2 and "one statement" in result.stderr
    result = _cli(samples_db, "SELECT nextval('articles_id_seq')")
    assert result.returncode == 2 and "read-only" in result.stderr
    target = tmp_path / "out.csv"
    result = _cli(samples_db, "SELECT 1/0 AS x FROM articles", "--output", str(target))
    assert result.returncode == 2 and "division by zero" in result.stderr
    assert not target.exists(), "no partial file is left behind"
    assert _direct(samples_db, "SELECT count(*) FROM articles")[1][0][0] > 0


def test_cli_stdout_and_file(samples_db: str, tmp_path: Path) -> None:
    result = _cli(samples_db, "feed_health", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and {"source", "health"} <= set(json.loads(lines[0]))
    assert "exported 4 row(s) to stdout" in result.stderr
    target = tmp_path / "health.csv"
    result = _cli(samples_db, "feed_health", "--output", str(target))
    assert result.returncode == 0 and len(target.read_text().splitlines()) == 5


def test_a_server_side_cursor_is_used(samples_db: str) -> None:
    conn = psycopg2.connect(samples_db)
    try:
        conn.set_session(readonly=True)
        statement, params = build_query(conn, "SELECT g FROM generate_series(1, 10000) g")
        columns, rows, cur = stream_rows(conn, statement, params, itersize=100)
        assert cur.name and cur.itersize == 100 and columns == ["g"]
        assert next(rows) == (1,)
        with conn.cursor() as probe:
            probe.execute("SELECT name, is_holdable FROM pg_cursors")
            assert (cur.name, False) in probe.fetchall()
        assert sum(1 for _ in rows) == 9999
    finally:
        conn.close()


_MEASURE = """
import io, resource, sys
import psycopg2
from newsmon.analysts.export import export


def peak_kib():  # VmHWM: this process's own peak (ru_maxrss also counts the parent before exec)
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


dsn, mode = sys.argv[1], sys.argv[2]
query = "SELECT g, md5(g::text) FROM generate_series(1, 200000) g"
before = peak_kib()
if mode == "fetchall":
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute(query)
    n = len(cur.fetchall())
else:
    with open("/dev/null", "w") as out:
        n = export(dsn, query, mode, out)
after = peak_kib()
print(n, after - before)
"""


def test_memory_stays_flat_on_200k_rows(database_url: str) -> None:
    def grow(mode: str) -> int:
        result = subprocess.run([sys.executable, "-c", _MEASURE, database_url, mode], capture_output=True,
                                text=True, timeout=60, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        rows, kib = map(int, result.stdout.split())
        assert rows == 200000
        print(mode, kib, "KiB")
        return kib

    fetchall = grow("fetchall")
    assert fetchall > 30 * 1024, "a fetchall of 200k rows holds them all"
    assert export(database_url, "SELECT '100%' AS p", "csv", io.StringIO()) == 1  # % is not a placeholder
    for mode in ("csv", "jsonl"):
        assert grow(mode) < 10 * 1024, mode
