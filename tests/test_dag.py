"""The Airflow DAGs: they import cleanly, follow the house rules, and a real ``dag.test()`` run
loads the sample site into PostgreSQL — twice, with nothing duplicated the second time."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.airflow


def test_dags_import_without_errors(dagbag) -> None:
    """Every DAG file parses; the shared helper module is not mistaken for a DAG."""
    assert dagbag.import_errors == {}
    assert "news_ingest" in dagbag.dag_ids


def test_dags_follow_house_rules(dagbag) -> None:
    """Tags, retries >= 2, no catchup, one active run, an owner."""
    for dag_id in dagbag.dag_ids:
        dag = dagbag.get_dag(dag_id)
        assert "newsmon" in dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        for task in dag.tasks:
            assert task.retries >= 2, (dag_id, task.task_id)


def test_ingest_dag_shape(dagbag) -> None:
    """Polling is mapped per feed and processing per batch; the run closes even after failures."""
    dag = dagbag.get_dag("news_ingest")
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"start_run", "sync_sources", "poll_feed", "plan_batches", "process_batch",
                          "tag_articles", "assign_events", "finish_run"}
    assert type(tasks["poll_feed"]).__name__.endswith("MappedOperator")
    assert type(tasks["process_batch"]).__name__.endswith("MappedOperator")
    assert type(tasks["tag_articles"]).__name__.endswith("MappedOperator")  # NEWSMON_TAG_SHARDS tasks
    assert "process_batch" in tasks["tag_articles"].upstream_task_ids
    assert "tag_articles" in tasks["finish_run"].upstream_task_ids
    assert "tag_articles" in tasks["assign_events"].upstream_task_ids  # events come from the tags
    assert "assign_events" in tasks["finish_run"].upstream_task_ids
    assert str(tasks["finish_run"].trigger_rule) in ("all_done", "TriggerRule.ALL_DONE")
    assert [o.name for o in tasks["finish_run"].outlets] == ["newsmon_articles"]


def _rows(db: str, sql: str) -> list[tuple]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def _dag_test(dagbag, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    dag = dagbag.get_dag("news_ingest")
    return dag.test()


def test_dag_run_ingests_and_rerun_adds_nothing(dagbag, db: str, fault_server,
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A dag.test() run polls feeds (a broken one included), loads articles and records the run;
    a second run loads nothing new and the broken feed never fails the DAG run."""
    feeds = tmp_path / "feeds.yml"
    feeds.write_text(f"""feeds:
  - name: pages
    url: "{fault_server.url('/pages.xml?prefix=dagtest')}"
    allow_private: true
  - name: broken
    url: "{fault_server.url('/html.xml')}"
    allow_private: true
""")
    env = {"NEWSMON_DATABASE_URL": db, "NEWSMON_FEEDS_FILE": str(feeds), "NEWSMON_READ_TIMEOUT": "2",
           "NEWSMON_HOST_MIN_INTERVAL": "0"}
    run = _dag_test(dagbag, monkeypatch, env)
    assert str(run.state) in ("success", "DagRunState.SUCCESS")
    runs = _rows(db, """SELECT status, feeds_polled, feeds_failed, entries_new, articles_new
                        FROM pipeline_runs WHERE dag_id = 'news_ingest'""")
    assert runs == [("success", 2, 1, 2, 2)]
    assert _rows(db, "SELECT count(*) FROM articles") == [(2,)]
    assert _rows(db, "SELECT count(*) FROM articles WHERE tagged_at IS NOT NULL") == [(2,)]
    assert _rows(db, "SELECT count(*) FROM stories WHERE event_id IS NULL") == [(0,)]  # all in events
    assert "not a feed" in _rows(db, "SELECT last_error FROM sources WHERE name = 'broken'")[0][0]

    run = _dag_test(dagbag, monkeypatch, env)
    assert str(run.state) in ("success", "DagRunState.SUCCESS")
    last = _rows(db, """SELECT entries_new, articles_new, duplicates FROM pipeline_runs
                        ORDER BY started_at DESC LIMIT 1""")
    assert last[0][:2] == (0, 0)
    assert _rows(db, "SELECT count(*) FROM articles") == [(2,)]
    assert _rows(db, "SELECT count(*) FROM pipeline_runs") == [(2,)]


def test_dag_run_with_two_tag_shards(airflow_db: None, db: str, fault_server,
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With ``NEWSMON_TAG_SHARDS=2`` the DAG (parsed again with it) maps two tag tasks, one per
    ``id % 2``; a dag.test() run tags every article and records the sum in pipeline_runs."""
    from airflow.dag_processing.dagbag import DagBag

    feeds = tmp_path / "feeds.yml"
    feeds.write_text(f"""feeds:
  - name: pages
    url: "{fault_server.url('/pages.xml?prefix=shards')}"
    allow_private: true
""")
    for key, value in {"NEWSMON_DATABASE_URL": db, "NEWSMON_FEEDS_FILE": str(feeds),
                       "NEWSMON_READ_TIMEOUT": "2", "NEWSMON_HOST_MIN_INTERVAL": "0",
                       "NEWSMON_TAG_SHARDS": "2"}.items():
        monkeypatch.setenv(key, value)
    bag = DagBag(dag_folder=str(ROOT / "dags" / "news_ingest.py"))
    assert bag.import_errors == {}
    dag = bag.get_dag("news_ingest")
    run = dag.test()
    assert str(run.state) in ("success", "DagRunState.SUCCESS")
    shards = sorted((ti.map_index, str(ti.state)) for ti in run.get_task_instances()
                    if ti.task_id == "tag_articles")
    assert [i for i, _ in shards] == [0, 1] and all("success" in state for _, state in shards), shards
    tagged = "SELECT count(*), count(*) FILTER (WHERE tagged_at IS NOT NULL) FROM articles"
    assert _rows(db, tagged) == [(2, 2)]
    assert _rows(db, "SELECT id % 2 FROM articles ORDER BY 1") == [(0,), (1,)]  # one article per shard
    runs = _rows(db, """SELECT status, articles_new, articles_tagged,
                               (details -> 'stage_seconds' ->> 'tag')::float > 0
                        FROM pipeline_runs WHERE dag_id = 'news_ingest'""")
    assert runs == [("success", 2, 2, True)]


def test_failure_notifier_fires_in_a_dag_test_run(dagbag, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """news_alerts run against an unreachable news database: its first task fails after its
    retries, and the ops notifier (task level, and DAG level through the workaround for the
    upstream Jinja bug under dag.test()) writes to the ops channel with the error."""
    import json

    from tests.webhook import WebhookReceiver

    log = tmp_path / "ops.jsonl"
    config = tmp_path / "alerts.yml"
    config.write_text(f"channels:\n  - name: opsfile\n    kind: file\n    target: {log}\n"
                      "  - name: opshook\n    kind: apprise\nrules: []\n")
    monkeypatch.setenv("NEWSMON_ALERTS_FILE", str(config))
    monkeypatch.setenv("NEWSMON_OPS_CHANNELS", "opsfile,opshook")
    monkeypatch.delenv("NEWSMON_CHANNEL_OPSHOOK", raising=False)
    monkeypatch.setenv("NEWSMON_DATABASE_URL", "postgresql://newsmon@127.0.0.1:1/unreachable")
    with WebhookReceiver() as hook:  # the webhook's URL comes from an Airflow Connection
        monkeypatch.setenv("AIRFLOW_CONN_NEWSMON_CHANNEL_OPSHOOK", json.dumps(
            {"conn_type": "generic", "extra": {"url": hook.apprise_url()}}))
        run = dagbag.get_dag("news_alerts").test()
        hook_titles = [r.body.get("title") for r in hook.requests if r.body]
    assert "failed" in str(run.state).lower()
    messages = [json.loads(line) for line in log.read_text().splitlines()]
    titles = [m["title"] for m in messages]
    assert "newsmon: news_alerts.enqueue failed" in titles, titles
    assert "newsmon: news_alerts run failed" in titles, titles
    assert any("cannot connect to the news database" in m["body"] for m in messages)
    assert "newsmon: news_alerts.enqueue failed" in hook_titles, hook_titles
