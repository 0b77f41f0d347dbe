"""The alerts outbox against a real PostgreSQL and a real webhook receiver on 127.0.0.1: one
alert per (rule, story) across reruns, copies and concurrent senders; failing channels retried
then failed without blocking others; digests; quiet hours; ops notifications once per change."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest

from newsmon.alerts.outbox import MAX_ATTEMPTS, build_digests, deliver_due, enqueue_alerts, notify_ops_changes
from newsmon.articles.hashing import content_hash
from newsmon.articles.store import ArticleCandidate
from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.pipeline.tasks import tag_articles
from newsmon.stories.neardup import fingerprint
from newsmon.stories.store import load_articles
from tests.alerting import alert_config
from tests.webhook import WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_outbox(samples_db: str) -> str:
    with psycopg2.connect(samples_db) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE alerts, alert_digests, alert_deliveries, ops_notifications")
    return samples_db


IMMEDIATE = """  - name: nr
    topic: nato_russia
    min_score: 0.5
    channels: [file]
    mode: immediate
"""


def _lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _matching_stories(db: str) -> int:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("""SELECT count(DISTINCT a.story_id) FROM article_topics t JOIN articles a
                       ON a.id = t.article_id WHERE t.topic = 'nato_russia' AND t.score >= 0.5""")
        return cur.fetchone()[0]


def test_one_alert_per_story_across_reruns(fresh_outbox: str, tmp_path: Path) -> None:
    """Every matching story alerts once; enqueue and deliver again change nothing."""
    settings = Settings(database_url=fresh_outbox)
    config, env = alert_config(tmp_path, IMMEDIATE)
    expected = _matching_stories(fresh_outbox)
    assert expected >= 8
    assert enqueue_alerts(settings, config) == expected
    assert enqueue_alerts(settings, config) == 0
    assert deliver_due(settings, config, env=env)["sent"] == expected
    assert deliver_due(settings, config, env=env)["sent"] == 0
    lines = _lines(tmp_path)
    assert len(lines) == expected
    first = lines[0]
    assert first["title"] and "nato_russia" in json.dumps(first["payload"])
    assert len({line["payload"]["story_id"] for line in lines}) == expected


def test_copies_and_later_articles_never_realert(fresh_outbox: str, tmp_path: Path) -> None:
    """A near-copy of an alerted story under another URL joins the story: no new alert."""
    settings = Settings(database_url=fresh_outbox)
    config, _ = alert_config(tmp_path, IMMEDIATE)
    enqueue_alerts(settings, config)
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("""SELECT a.title, a.text, a.language FROM alerts al
                       JOIN articles a ON a.id = al.article_id ORDER BY al.id LIMIT 1""")
        title, text, language = cur.fetchone()
    copy = "Lire aussi : notre dossier.\n" + text + "\n© Agence partenaire"
    with transaction(fresh_outbox) as conn:
        out = load_articles(conn, [ArticleCandidate(
            canonical_url=f"https://partner.example/{uuid.uuid4().hex}", url="https://partner.example/",
            source_id=None, title=title, text=copy, author=None, language=language, language_prob=1.0,
            language_method="detected", published_at=datetime.now(UTC), fetched_at=None,
            content_hash=content_hash(copy), text_source="page", extraction_status="ok",
            fingerprint=fingerprint(copy))])
    assert not out[0].story_new
    tag_articles(settings)
    assert enqueue_alerts(settings, config) == 0


def test_failing_channel_retries_then_fails_without_blocking_others(fresh_outbox: str,
                                                                    tmp_path: Path) -> None:
    """The webhook answers 500: its deliveries retry with backoff and end failed; the file
    channel's deliveries of the same alerts are sent at once."""
    settings = Settings(database_url=fresh_outbox)
    with WebhookReceiver(status=500) as hook:
        rules = IMMEDIATE.replace("channels: [file]", "channels: [file, hook]")
        config, env = alert_config(tmp_path, rules, hook.apprise_url())
        expected = enqueue_alerts(settings, config)
        now = datetime.now(UTC)
        first = deliver_due(settings, config, now=now, env=env)
        assert first["sent"] == expected and first["retry"] == expected
        for _ in range(2, MAX_ATTEMPTS + 1):  # later runs, once each backoff has passed
            now += timedelta(hours=2)
            outcome = deliver_due(settings, config, now=now, env=env)
            assert outcome["sent"] == 0
        assert outcome["failed"] == expected
        assert len(hook.requests) == expected * MAX_ATTEMPTS
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("SELECT channel, status, count(*), max(attempts) FROM alert_deliveries GROUP BY 1, 2")
        rows = {(c, s): (n, a) for c, s, n, a in cur.fetchall()}
    assert rows[("hook", "failed")] == (expected, MAX_ATTEMPTS)
    assert rows[("file", "sent")][0] == expected


def test_webhook_receives_each_alert_once_with_concurrent_senders(fresh_outbox: str, tmp_path: Path) -> None:
    """Two senders running at the same moment never send one delivery twice."""
    settings = Settings(database_url=fresh_outbox)
    with WebhookReceiver() as hook:
        config, env = alert_config(tmp_path, IMMEDIATE.replace("[file]", "[hook]"), hook.apprise_url())
        expected = enqueue_alerts(settings, config)
        barrier = threading.Barrier(2)
        results = []

        def sender() -> None:
            barrier.wait()
            results.append(deliver_due(settings, config, env=env))

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r["sent"] for r in results) == expected
        assert len(hook.requests) == expected
        titles = [r.body.get("title") for r in hook.requests]
        assert len(set(titles)) == len(titles)


def test_digest_groups_stories_once_per_period(fresh_outbox: str, tmp_path: Path) -> None:
    """A digest rule sends one message per schedule tick listing every waiting story."""
    settings = Settings(database_url=fresh_outbox)
    rules = IMMEDIATE.replace("mode: immediate", 'mode: digest\n    digest_cron: "0 7 * * *"')
    config, env = alert_config(tmp_path, rules)
    expected = enqueue_alerts(settings, config)
    assert deliver_due(settings, config, env=env)["sent"] == 0  # nothing before the digest closes
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:  # a story gains a copy
        cur.execute("""SELECT al.story_id, a.title, a.text FROM alerts al
                       JOIN articles a ON a.id = al.article_id ORDER BY al.id LIMIT 1""")
        story_id, title, text = cur.fetchone()
    copy = "Lire aussi : notre dossier.\n" + text
    with transaction(fresh_outbox) as conn:
        load_articles(conn, [ArticleCandidate(
            canonical_url=f"https://partner.example/{uuid.uuid4().hex}", url="https://partner.example/",
            source_id=None, title=title, text=copy, author=None, language="fr", language_prob=1.0,
            language_method="detected", published_at=None, fetched_at=None,
            content_hash=content_hash(copy), text_source="page", extraction_status="ok",
            fingerprint=fingerprint(copy))])
    tomorrow = datetime.now(UTC) + timedelta(days=1, hours=1)
    assert build_digests(settings, config, now=tomorrow) == 1
    assert build_digests(settings, config, now=tomorrow) == 0
    assert deliver_due(settings, config, now=tomorrow, env=env)["sent"] == 1
    digest = _lines(tmp_path)
    assert len(digest) == 1
    assert len(digest[0]["payload"]["story_ids"]) == expected
    assert {"story_id": story_id, "new_articles": 1} in digest[0]["payload"]["updates"]
    assert "+1" in digest[0]["body"] or "1 new article" in digest[0]["body"]


def test_quiet_hours_delay_immediate_alerts(fresh_outbox: str, tmp_path: Path) -> None:
    """An alert recorded during quiet hours waits for their end."""
    settings = Settings(database_url=fresh_outbox)
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    rules = IMMEDIATE + f'    quiet_hours: {{start: "{start}", end: "{end}", timezone: UTC}}\n'
    config, env = alert_config(tmp_path, rules)
    expected = enqueue_alerts(settings, config, now=now)
    assert deliver_due(settings, config, now=now, env=env)["sent"] == 0
    assert deliver_due(settings, config, now=now + timedelta(hours=3), env=env)["sent"] == expected


def test_ops_told_once_per_change_of_feed_health(fresh_outbox: str, tmp_path: Path) -> None:
    """A feed turning failing is announced once, its recovery once; the broken demo feed is
    only degraded, so it is not announced."""
    settings = Settings(database_url=fresh_outbox)
    config, _ = alert_config(tmp_path, IMMEDIATE)
    env = {"NEWSMON_OPS_CHANNELS": "file"}
    assert notify_ops_changes(settings, config, env) == []
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sources SET health = 'failing' WHERE name = 'demo-afp-en'")
    assert notify_ops_changes(settings, config, env) == ["newsmon: feed demo-afp-en is failing"]
    assert notify_ops_changes(settings, config, env) == []
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sources SET health = 'active' WHERE name = 'demo-afp-en'")
    assert notify_ops_changes(settings, config, env) == ["newsmon: feed demo-afp-en recovered"]
    assert [line["title"] for line in _lines(tmp_path)] == ["newsmon: feed demo-afp-en is failing",
                                                           "newsmon: feed demo-afp-en recovered"]




def test_news_alerts_dag_run_writes_alerts_once(fresh_outbox: str, tmp_path: Path, dagbag,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """dag.test() of news_alerts with a file channel: one message per matching story; a second
    run adds none."""
    config = tmp_path / "alerts.yml"
    config.write_text(f"""channels:
  - name: file
    kind: file
    target: {tmp_path / 'alerts.jsonl'}
rules:
{IMMEDIATE}""")
    monkeypatch.setenv("NEWSMON_ALERTS_FILE", str(config))
    monkeypatch.setenv("NEWSMON_DATABASE_URL", fresh_outbox)
    monkeypatch.setenv("NEWSMON_OPS_CHANNELS", "file")
    dag = dagbag.get_dag("news_alerts")
    assert "success" in str(dag.test().state).lower()
    expected = _matching_stories(fresh_outbox)
    alerts = [line for line in _lines(tmp_path) if line["payload"].get("kind") == "alert"]
    assert len(alerts) == expected
    assert "success" in str(dag.test().state).lower()
    assert len([line for line in _lines(tmp_path) if line["payload"].get("kind") == "alert"]) == expected


def test_unset_ops_channel_is_silent_and_told_later(fresh_outbox: str, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """An ops channel whose URL variable is unset is skipped without an error (``make up`` warns
    once at start-up); the feed-health change is not recorded meanwhile, so it is told once the
    variable is set."""
    import logging

    from newsmon.alerts.outbox import send_ops, unconfigured_ops_channels
    from newsmon.operations.services import ops_warnings

    settings = Settings(database_url=fresh_outbox)
    config, _ = alert_config(tmp_path, IMMEDIATE)
    unset = {"NEWSMON_OPS_CHANNELS": "hook"}
    assert unconfigured_ops_channels(config, unset) == {"hook": "NEWSMON_TEST_HOOK"}
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("UPDATE sources SET health = 'failing' WHERE name = 'demo-afp-en'")
    with caplog.at_level(logging.INFO):
        assert send_ops(config, "t", "b", {}, unset) == []
        assert notify_ops_changes(settings, config, unset) == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    with WebhookReceiver() as hook:
        env = {**unset, "NEWSMON_TEST_HOOK": hook.apprise_url("/ops")}
        assert unconfigured_ops_channels(config, env) == {}
        assert notify_ops_changes(settings, config, env) == ["newsmon: feed demo-afp-en is failing"]
    warnings = ops_warnings({"NEWSMON_OPS_CHANNELS": "ops"})  # the repository's config/alerts.yml
    assert len(warnings) == 1 and "NEWSMON_CHANNEL_OPS" in warnings[0], warnings
    assert ops_warnings({"NEWSMON_CHANNEL_OPS": "json://127.0.0.1:9/x"}) == []
