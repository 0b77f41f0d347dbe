"""Pipeline runs: one row per DAG run with its counters (what ``newsmon runs`` reports)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from newsmon.core.db import Connection

RUN_COUNTERS = ("feeds_polled", "feeds_skipped", "feeds_not_modified", "feeds_failed", "entries_new",
                "entries_updated", "pages_fetched",
                "fetch_failures", "articles_new", "articles_updated", "duplicates", "stories_new",
                "near_duplicates", "versions_new", "articles_tagged")


def start_run(conn: Connection, dag_id: str, run_id: str, interval_start: datetime | None,
              interval_end: datetime | None) -> None:
    with conn.cursor() as cur:
        cur.execute("""
            INSERT INTO pipeline_runs (dag_id, run_id, data_interval_start, data_interval_end)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (dag_id, run_id) DO UPDATE SET status = 'running', finished_at = NULL""",
            (dag_id, run_id, interval_start, interval_end))


def finish_run(conn: Connection, dag_id: str, run_id: str, counts: dict[str, int], status: str,
               details: dict[str, Any]) -> None:
    """Write a run's final counts; setting (not adding) them keeps a rerun of this step exact."""
    values = [int(counts.get(name, 0)) for name in RUN_COUNTERS]
    with conn.cursor() as cur:
        cur.execute(f"""
            INSERT INTO pipeline_runs (dag_id, run_id, {", ".join(RUN_COUNTERS)}, status, details,
                                       finished_at)
            VALUES (%s, %s, {", ".join(["%s"] * len(RUN_COUNTERS))}, %s, %s::jsonb, now())
            ON CONFLICT (dag_id, run_id) DO UPDATE SET
                {", ".join(f"{n} = EXCLUDED.{n}" for n in RUN_COUNTERS)},
                status = EXCLUDED.status, details = EXCLUDED.details, finished_at = now()""",
            (dag_id, run_id, *values, status, json.dumps(details, default=str)))
