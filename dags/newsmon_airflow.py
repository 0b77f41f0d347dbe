"""Shared wiring for newsmon DAGs (not a DAG: listed in .airflowignore).

Settings come from ``NEWSMON_*`` variables; the news database from the Airflow Connection
``newsmon_db`` when it exists (``AIRFLOW_CONN_NEWSMON_DB`` or the metadata DB), else from
``NEWSMON_DATABASE_URL``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsmon.core.config import Settings

NEWS_DB_CONN_ID = "newsmon_db"
ARTICLES_ASSET_NAME = "newsmon_articles"
ARTICLES_ASSET_URI = "postgres://newsmon/articles"


def env_int(name: str, default: int) -> int:
    """An integer DAG setting from the environment; empty or malformed values use the default
    (a parse-time crash would hide the whole DAG)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() else default


DEFAULT_ARGS = {
    "owner": "newsmon",
    "retries": env_int("NEWSMON_TASK_RETRIES", 2),
    "retry_delay": timedelta(seconds=env_int("NEWSMON_RETRY_DELAY_SECONDS", 60)),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


def fetch_pool() -> str:
    """The Airflow pool that caps concurrent feed polls and page-fetching batches across all DAG runs
    and workers: ``NEWSMON_FETCH_POOL`` (compose sets ``newsmon_fetch``, which airflow-init creates),
    else ``default_pool`` (local runs and tests, where no such pool exists)."""
    return os.environ.get("NEWSMON_FETCH_POOL") or "default_pool"


def mapped_results(results: Any) -> list[Any]:
    """The results of a mapped task, read in one request (a slice). Iterating Airflow's lazy
    sequence instead reads item by item until one is missing, and that last miss is logged as an
    error (``XCom not found``) in every successful run."""
    if results is None:
        return []
    return list(results[:])


def news_database_url() -> str:
    """The news database URL, resolved at task run time (never at import time)."""
    from airflow.sdk import Connection

    try:
        conn = Connection.get(NEWS_DB_CONN_ID)
    except Exception:  # not defined: AirflowNotFoundException (its module moved across versions)
        conn = None
    if conn is not None and conn.host:
        from newsmon.core.db import dsn_from_parts

        return dsn_from_parts(host=conn.host, port=conn.port, login=conn.login, password=conn.password,
                              database=conn.schema, options=conn.extra_dejson or None)
    url = os.environ.get("NEWSMON_DATABASE_URL")
    if not url:
        raise RuntimeError(f"no news database configured: define the Airflow Connection "
                           f"'{NEWS_DB_CONN_ID}' or set NEWSMON_DATABASE_URL")
    return url


def settings() -> Settings:
    from newsmon.core.config import Settings

    return Settings.from_env(database_url=news_database_url())


def articles_asset() -> Any:
    """The asset news_ingest updates and news_alerts is scheduled on."""
    from airflow.sdk import Asset

    return Asset(name=ARTICLES_ASSET_NAME, uri=ARTICLES_ASSET_URI)


def failure_notifier(level: str = "task") -> Any:
    """The ops notifier from plugins/ (``level``: "dag" or "task" on_failure_callback)."""
    from newsmon_notifier import NewsmonOpsNotifier

    return NewsmonOpsNotifier(level=level)


def dag_defaults() -> dict[str, Any]:
    """What every newsmon DAG shares: no catchup, one active run, retries, the ops notifier on
    task and DAG failure."""
    import pendulum

    return {
        "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
        "catchup": False,
        "max_active_runs": 1,
        "default_args": {**DEFAULT_ARGS, "on_failure_callback": failure_notifier()},
        "on_failure_callback": failure_notifier("dag"),
    }
