"""Digests with ``attach_report: true`` carry the topic's HTML report (``newsmon report``): built
once with the digest and stored with it, so the first send, a retry and a replay carry the very
same bytes, on a real file channel and a real webhook receiver (Apprise json://), against the
sample site in a real PostgreSQL. Without the option nothing is attached; an oversized report is
left out and the message says so."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg2
import pytest

from newsmon.alerts import outbox
from newsmon.alerts.outbox import build_digests, deliver_due, enqueue_alerts, replay, report_day
from newsmon.alerts.rules import Rule
from newsmon.core.config import Settings
from tests.alerting import alert_config
from tests.webhook import WebhookReceiver

TOPIC = "nato_russia"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the local receiver must not go through a developer's proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fresh_outbox(samples_db: str) -> str:
    with psycopg2.connect(samples_db) as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE alerts, alert_digests, alert_deliveries, ops_notifications")
    return samples_db


def _config(tmp_path: Path, hook: str, attach: bool = True):
    rules = f"""  - name: dr
    topic: {TOPIC}
    min_score: 0.5
    channels: [file, hook]
    mode: digest
    digest_cron: "0 7 * * *"
""" + ("    attach_report: true\n" if attach else "")
    return alert_config(tmp_path, rules, hook)


def _busiest_day(db: str) -> date:
    """The UTC day when most stories of the topic were first seen."""
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("""SELECT first_seen_at::date FROM stories
                       WHERE id IN (SELECT story_id FROM topic_articles WHERE topic = %s)
                       GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""", (TOPIC,))
        return cur.fetchone()[0]


def _titles_of(db: str, day: date) -> list[str]:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("""SELECT title FROM stories WHERE first_seen_at::date = %s
                       AND id IN (SELECT story_id FROM topic_articles WHERE topic = %s)""", (day, TOPIC))
        return [row[0] for row in cur.fetchall()]


def _close_digest_after(db: str, settings: Settings, config, day: date) -> datetime:
    """Record the alerts, date them before the 07:00 tick after ``day`` and build that digest;
    returns the build time (07:30 the next day, UTC)."""
    assert enqueue_alerts(settings, config) >= 1
    built = datetime.combine(day + timedelta(days=1), time(7, 30), tzinfo=UTC)
    with psycopg2.connect(db) as conn, conn.cursor() as cur:  # recorded during the period
        cur.execute("UPDATE alerts SET created_at = %s", (built - timedelta(hours=2),))
    assert build_digests(settings, config, now=built) == 1
    return built


def _lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_digest_carries_the_same_report_on_send_retry_and_replay(fresh_outbox: str, tmp_path: Path) -> None:
    """One digest, one HTML report (the topic's stories of the day, SVG charts): the webhook's
    first attempt fails, the retry and a replay carry identical bytes, which match the file
    channel's saved copies, even though a story changed in the database after the digest."""
    settings = Settings(database_url=fresh_outbox)
    day = _busiest_day(fresh_outbox)
    titles = _titles_of(fresh_outbox, day)
    assert titles
    with WebhookReceiver() as hook:
        config, env = _config(tmp_path, hook.apprise_url())
        built = _close_digest_after(fresh_outbox, settings, config, day)
        with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
            cur.execute("SELECT id, title FROM stories WHERE title = %s LIMIT 1", (titles[0],))
            story_id, title = cur.fetchone()
            cur.execute("UPDATE stories SET title = 'RENAMED AFTER THE DIGEST' WHERE id = %s", (story_id,))
        try:
            hook.fail_next(1, status=500)
            assert deliver_due(settings, config, now=built, env=env) == {
                "sent": 1, "retry": 1, "failed": 0, "unknown": 0}
            assert deliver_due(settings, config, now=built + timedelta(hours=2), env=env)["sent"] == 1
            with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
                cur.execute("SELECT min(id) FROM alerts")
                alert_id = cur.fetchone()[0]
            assert replay(settings, alert_id) == 2  # an alert of a digest replays its digest
            later = max(datetime.now(UTC), built) + timedelta(hours=3)
            assert deliver_due(settings, config, now=later, env=env)["sent"] == 2
        finally:
            with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
                cur.execute("UPDATE stories SET title = %s WHERE id = %s", (title, story_id))
        requests = hook.wait_for(3)
    assert [r.status for r in requests] == [500, 200, 200]
    filename = f"newsmon-report-dr-{day.isoformat()}.html"
    sent = []
    for request in requests:
        [attachment] = request.body["attachments"]
        assert (attachment["filename"], attachment["mimetype"]) == (filename, "text/html")
        sent.append(base64.b64decode(attachment["base64"]))
        assert f"Attached: HTML report {filename}" in request.body["message"]
    assert sent[0] == sent[1] == sent[2]
    page = sent[0].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"newsmon report {day.isoformat()} — topic {TOPIC}" in page
    assert "<svg" in page and "RENAMED" not in page
    for story_title in titles:
        assert re.sub(r"\s+", " ", html.escape(story_title)) in page
    lines = _lines(tmp_path)
    assert len(lines) == 2  # the send and the replay
    digest = hashlib.sha256(sent[0]).hexdigest()
    for line in lines:
        [saved] = line["attachments"]
        assert saved["filename"] == filename and saved["sha256"] == digest
        assert Path(saved["path"]).read_bytes() == sent[0]
        assert line["payload"]["report"] == {"filename": filename, "day": day.isoformat(), "topic": TOPIC,
                                             "bytes": len(sent[0]), "sha256": digest}
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:
        cur.execute("SELECT payload FROM alert_digests")
        [(payload,)] = cur.fetchall()
    assert payload["attachments"][0]["text"].encode("utf-8") == sent[0]


def test_digest_without_the_option_attaches_nothing(fresh_outbox: str, tmp_path: Path) -> None:
    """A digest rule without attach_report sends the digest alone, on both channels."""
    settings = Settings(database_url=fresh_outbox)
    with WebhookReceiver() as hook:
        config, env = _config(tmp_path, hook.apprise_url(), attach=False)
        built = _close_digest_after(fresh_outbox, settings, config, _busiest_day(fresh_outbox))
        assert deliver_due(settings, config, now=built, env=env)["sent"] == 2
        [request] = hook.wait_for(1)
    assert request.body["attachments"] == [] and "report" not in request.body["message"]
    [line] = _lines(tmp_path)
    assert line["attachments"] == [] and "report" not in line["payload"]
    assert not (tmp_path / "alerts-attachments").exists()
    with psycopg2.connect(fresh_outbox) as conn, conn.cursor() as cur:  # alert_status sees the digest
        cur.execute("SELECT count(*) FROM alerts")
        alerts = cur.fetchone()[0]
        cur.execute("""SELECT channel, status, count(*), count(DISTINCT digest_id) FROM alert_status
                       GROUP BY channel, status ORDER BY channel""")
        rows = cur.fetchall()
    conn.close()
    assert alerts > 0
    assert [(r[1], r[2], r[3]) for r in rows] == [("sent", alerts, 1), ("sent", alerts, 1)], rows


def test_oversized_report_is_left_out_and_said(fresh_outbox: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A report over the size limit does not block the digest: sent without it, the body tells
    why and how to get it."""
    monkeypatch.setattr(outbox, "MAX_REPORT_BYTES", 1000)
    settings = Settings(database_url=fresh_outbox)
    day = _busiest_day(fresh_outbox)
    with WebhookReceiver() as hook:
        config, env = _config(tmp_path, hook.apprise_url())
        built = _close_digest_after(fresh_outbox, settings, config, day)
        assert deliver_due(settings, config, now=built, env=env) == {
            "sent": 2, "retry": 0, "failed": 0, "unknown": 0}
        [request] = hook.wait_for(1)
    assert request.body["attachments"] == []
    assert "HTML report not attached" in request.body["message"]
    assert f"newsmon report --day {day.isoformat()} --topic {TOPIC}" in request.body["message"]
    [line] = _lines(tmp_path)
    assert line["attachments"] == [] and line["payload"]["report"]["omitted"] == "larger than 1000 bytes"
    assert line["payload"]["report"]["bytes"] > 1000


def test_a_report_that_breaks_does_not_hold_back_the_digest(fresh_outbox: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever goes wrong while making the report (here a bug injected in the renderer), the
    digest goes out without it and says so."""
    from newsmon.analysts import htmlreport

    def broken(data: dict) -> str:
        raise KeyError("stories")

    monkeypatch.setattr(htmlreport, "render_report", broken)
    settings = Settings(database_url=fresh_outbox)
    with WebhookReceiver() as hook:
        config, env = _config(tmp_path, hook.apprise_url())
        built = _close_digest_after(fresh_outbox, settings, config, _busiest_day(fresh_outbox))
        assert deliver_due(settings, config, now=built, env=env)["sent"] == 2
        [request] = hook.wait_for(1)
    assert request.body["attachments"] == []
    assert "HTML report not attached: it could not be made ('stories')" in request.body["message"]


@pytest.mark.parametrize(("cron", "tick", "day"), [
    ("0 7 * * *", "2026-11-25T07:00", "2026-11-24"),     # daily at 07:00: the whole day before
    ("0 0 * * *", "2026-11-25T00:00", "2026-11-24"),     # daily at midnight: the day that just ended
    ("0 * * * *", "2026-11-25T10:00", "2026-11-25"),     # hourly: the same day
    ("0 7,19 * * *", "2026-11-25T07:00", "2026-11-25"),  # 19:00 to 07:00: mostly the tick's day
    ("0 7 * * mon", "2026-11-23T07:00", "2026-11-22"),   # weekly: the last day, 12 hours before
])
def test_report_day(cron: str, tick: str, day: str) -> None:
    """The report shows the day the digest's period is mostly about."""
    rule = Rule("r", TOPIC, mode="digest", digest_cron=cron)
    assert report_day(rule, datetime.fromisoformat(tick).replace(tzinfo=UTC)) == date.fromisoformat(day)
