"""
### news_alerts

Runs when `news_ingest` updates the `newsmon_articles` asset, and on the digest schedule
(`NEWSMON_DIGEST_SCHEDULE`, default daily 07:00 UTC): records one alert per new story matching a
rule of `config/alerts.yml` (outbox, unique per rule and story), closes digest periods, delivers
what is due to each channel (retries with backoff, a failing channel never blocks the others),
and tells ops once about feeds turning failing or silent and runs that load nothing.
"""

from __future__ import annotations

import os

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from newsmon_airflow import articles_asset, dag_defaults, settings


@dag(
    dag_id="news_alerts",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(os.environ.get("NEWSMON_DIGEST_SCHEDULE") or "0 7 * * *",
                                       timezone="UTC"),
        assets=articles_asset()),
    **dag_defaults(),
    tags=["newsmon", "alerts"],
    doc_md=__doc__,
)
def news_alerts() -> None:
    @task
    def enqueue() -> int:
        from newsmon.alerts.outbox import enqueue_alerts
        from newsmon.alerts.rules import load_alert_config

        return enqueue_alerts(settings(), load_alert_config())

    @task
    def digests(recorded: int) -> int:
        from newsmon.alerts.outbox import build_digests
        from newsmon.alerts.rules import load_alert_config

        return build_digests(settings(), load_alert_config())

    @task
    def deliver(made: int) -> dict:
        from newsmon_notifier import channel_env

        from newsmon.alerts.outbox import deliver_due
        from newsmon.alerts.rules import load_alert_config

        config = load_alert_config()
        return deliver_due(settings(), config, env=channel_env(config))

    @task
    def notify_ops(delivered: dict) -> list[str]:
        from newsmon_notifier import channel_env

        from newsmon.alerts.outbox import notify_ops_changes
        from newsmon.alerts.rules import load_alert_config

        config = load_alert_config()
        return notify_ops_changes(settings(), config, channel_env(config))

    notify_ops(deliver(digests(enqueue())))


news_alerts()
