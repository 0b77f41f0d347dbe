"""
### news_maintenance

Daily housekeeping: deletes processed raw feed entries older than
`NEWSMON_RETENTION_ENTRIES_DAYS` and clears the feed bodies of those older than
`NEWSMON_RETENTION_BODIES_DAYS` (articles, stories and tags are kept), runs VACUUM (ANALYZE) on
the busy tables, and sends ops a feed-health summary.
"""

from __future__ import annotations

import os

from airflow.sdk import dag, task
from newsmon_airflow import dag_defaults, settings


@dag(
    dag_id="news_maintenance",
    schedule=os.environ.get("NEWSMON_MAINTENANCE_SCHEDULE") or "30 3 * * *",
    **dag_defaults(),
    tags=["newsmon", "maintenance"],
    doc_md=__doc__,
)
def news_maintenance() -> None:
    @task
    def retention() -> dict:
        from newsmon.operations.maintenance import Retention, apply_retention

        config = settings()
        return apply_retention(config, Retention(config.retention_entries_days, config.retention_bodies_days))

    @task
    def vacuum(removed: dict) -> list[str]:
        from newsmon.operations.maintenance import vacuum as run_vacuum

        return run_vacuum(settings())

    @task
    def health_summary(vacuumed: list[str]) -> dict:
        from newsmon_notifier import channel_env

        from newsmon.alerts.outbox import send_ops
        from newsmon.alerts.rules import load_alert_config
        from newsmon.operations.maintenance import health_summary as summary

        config = load_alert_config()
        title, body, counts = summary(settings())
        for error in send_ops(config, title, body, {"kind": "feed_health", "counts": counts},
                              channel_env(config)):
            print(f"feed-health summary not delivered: {error}")  # an unset ops channel is not a failure
        return counts

    health_summary(vacuum(retention()))


news_maintenance()
