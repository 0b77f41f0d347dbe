"""
### news_ingest

Polls every enabled feed of `NEWSMON_FEEDS_FILE` (one mapped task per feed), then fetches,
extracts, language-tags, deduplicates and loads the new entries in batches of
`NEWSMON_BATCH_SIZE` (one mapped task per batch), tags new and changed articles (entities,
key phrases, topic scores; `NEWSMON_TAG_SHARDS` mapped tasks, each taking the articles with
`id % shards = index`), places the tagged stories in events (the same happening across
outlets and languages, `newsmon.events`), and records the run in `pipeline_runs`.
Updates the `newsmon_articles` asset on success. Schedule: `NEWSMON_INGEST_SCHEDULE`
(default `@hourly`). Feed and page failures are recorded on their rows; only database
failures fail (and retry) a task.
"""

from __future__ import annotations

import os

from airflow.sdk import Param, TriggerRule, dag, get_current_context, task
from newsmon_airflow import articles_asset, dag_defaults, env_int, fetch_pool, mapped_results, settings

ARTICLES_ASSET = articles_asset()


def ingest_schedule() -> str | None:
    """NEWSMON_INGEST_SCHEDULE (a cron or preset; default @hourly); ``none``: triggered runs only."""
    value = (os.environ.get("NEWSMON_INGEST_SCHEDULE") or "@hourly").strip()
    return None if value.lower() in ("none", "manual") else value


TAG_SHARDS = max(1, env_int("NEWSMON_TAG_SHARDS", 1))


@dag(
    dag_id="news_ingest",
    schedule=ingest_schedule(),
    **dag_defaults(),
    tags=["newsmon", "ingest"],
    doc_md=__doc__,
    params={"force_poll": Param(False, type="boolean",
                                description="poll every enabled feed, even those not due yet")},
)
def news_ingest() -> None:
    @task
    def start_run() -> None:
        from newsmon.pipeline.tasks import start_run as start

        ctx = get_current_context()
        start(settings(), ctx["dag"].dag_id, ctx["run_id"], ctx.get("data_interval_start"),
              ctx.get("data_interval_end"))

    @task
    def sync_sources() -> list[str]:
        from newsmon.pipeline.tasks import sync_sources as sync

        return sync(settings())

    @task(max_active_tis_per_dagrun=env_int("NEWSMON_POLL_CONCURRENCY", 8), pool=fetch_pool())
    def poll_feed(source: str) -> dict:
        from dataclasses import asdict

        from newsmon.pipeline.tasks import poll_source

        force = bool(get_current_context()["params"].get("force_poll"))
        return asdict(poll_source(settings(), source, force=force))

    @task
    def plan_batches(polls: list[dict]) -> list[list[int]]:
        from newsmon.pipeline.tasks import plan_batches as plan

        return plan(settings())

    @task(max_active_tis_per_dagrun=env_int("NEWSMON_BATCH_CONCURRENCY", 2), pool=fetch_pool())
    def process_batch(entry_ids: list[int]) -> dict:
        from dataclasses import asdict

        from newsmon.pipeline.tasks import process_entries

        return asdict(process_entries(settings(), entry_ids))

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def tag_articles(shard: list[int]) -> dict:
        from newsmon.pipeline.tasks import tag_stage

        return tag_stage(settings(), shard=shard)

    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def assign_events() -> dict:
        from newsmon.pipeline.tasks import event_stage

        return event_stage(settings())

    # An incomplete run is final (its failed tasks already had their retries): AirflowFailException
    # ends it `failed` at once instead of retrying with backoff and holding back the next run. A
    # database error in finish() itself is still retried.
    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[ARTICLES_ASSET])
    def finish_run(names: list[str], polls: list[dict], planned: list[list[int]],
                   batches: list[dict], tagged: list[dict], events: dict | None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from newsmon.pipeline.tasks import finish_run as finish

        ctx = get_current_context()
        polls, batches, tagged = mapped_results(polls), mapped_results(batches), mapped_results(tagged)
        failed = (len(polls) != len(names or []) or len(batches) != len(planned or [])
                  or len(tagged) != TAG_SHARDS)
        failed = failed or events is None
        counts = finish(settings(), ctx["dag"].dag_id, ctx["run_id"], polls, batches, failed=failed,
                        tagged=tagged, events=events)
        if failed:
            raise AirflowFailException(f"run incomplete: {len(polls)}/{len(names or [])} feeds polled, "
                                       f"{len(batches)}/{len(planned or [])} batches processed, "
                                       f"{len(tagged)}/{TAG_SHARDS} tag shards done, events "
                                       f"{'done' if events is not None else 'not done'}; see failed tasks")
        return counts

    names = sync_sources()
    start_run() >> names
    polls = poll_feed.expand(source=names)
    planned = plan_batches(polls)
    batches = process_batch.expand(entry_ids=planned)
    tagged = tag_articles.expand(shard=[[i, TAG_SHARDS] for i in range(TAG_SHARDS)])
    batches >> tagged
    events = assign_events()
    tagged >> events
    finish_run(names, polls, planned, batches, tagged, events)


news_ingest()
