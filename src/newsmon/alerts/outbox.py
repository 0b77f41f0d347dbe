"""The alerts outbox (edge: PostgreSQL and the notification channels).

- :func:`enqueue_alerts` records one alert per (rule, story) — a unique constraint makes
  reruns, retries and overlapping runs harmless, and later articles of a story never re-alert —
  with one delivery per channel, due at once or after the rule's quiet hours.
- :func:`build_digests` closes each digest rule's period (its cron schedule) into one message
  listing the period's stories and how many articles each gained since. With ``attach_report:
  true`` it also renders the topic's HTML report (:mod:`newsmon.analysts.htmlreport`, the day given by
  :func:`report_day`) once, and stores it in the digest's payload (``attachments``: filename,
  mimetype, UTF-8 ``text``, sha256), so every delivery, retry and replay sends the very same bytes.
  A report over :data:`MAX_REPORT_BYTES` (or one that cannot be made) is not attached; the
  message body says so.
- :func:`deliver_due` claims due deliveries in their own committed transaction (``sending``),
  sends them, then records ``sent`` — or, on failure, retries with backoff and finally marks
  ``failed`` — without one channel blocking another.

If the process dies after a message left but before ``sent`` was recorded, the delivery stays
``sending``; after ``SENDING_TIMEOUT`` it is marked ``unknown`` and NOT sent again
automatically (at most once): ``newsmon alerts replay ID`` resends it on purpose.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg2
from psycopg2.extras import execute_values

from newsmon.alerts.notify import NotifyError, resolve_channel, send
from newsmon.alerts.rules import (
    AlertConfig,
    Attachment,
    Message,
    Rule,
    StoryFacts,
    next_allowed_time,
    render_alert,
    render_digest,
    rule_matches,
)
from newsmon.core.config import Settings
from newsmon.core.db import transaction
from newsmon.core.errors import NewsmonError

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SENDING_TIMEOUT = timedelta(minutes=15)
LOOKBACK = timedelta(hours=48)
"""Only stories first seen this recently are alerted: a new rule does not flood with the past."""
MAX_REPORT_BYTES = 2 * 1024 * 1024
"""A digest's HTML report larger than this (UTF-8 bytes) is sent without it: mail and chat services
refuse big files, and it is stored in the digest's payload."""


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))


def _facts_json(facts: StoryFacts) -> dict[str, Any]:
    data = asdict(facts)
    data["published_at"] = facts.published_at.isoformat() if facts.published_at else None
    return data


def _facts_from_json(data: Mapping[str, Any]) -> StoryFacts:
    values = dict(data)
    if values.get("published_at"):
        values["published_at"] = datetime.fromisoformat(values["published_at"])
    for key in ("source_tags", "entities", "sources", "languages"):
        values[key] = tuple(values.get(key) or ())
    return StoryFacts(**values)


def _message_json(message: Message) -> dict[str, Any]:
    return {"title": message.title, "body": message.body, "payload": message.payload}


_CANDIDATES = """
    SELECT s.id, s.title, r.url, src.name, COALESCE(src.tags, '{}'), r.language,
           COALESCE(r.published_at, r.created_at), best.score, best.why, best.article_id,
           s.article_count, ov.source_count, COALESCE(ov.sources, '{}'), COALESCE(ov.languages, '{}'),
           COALESCE((SELECT array_agg(DISTINCT e.name) FROM article_entities ae
                     JOIN entities e ON e.id = ae.entity_id JOIN articles a2 ON a2.id = ae.article_id
                     WHERE a2.story_id = s.id), '{}'),
           s.event_id
    FROM stories s
    JOIN LATERAL (SELECT t.article_id, t.score, t.why FROM article_topics t
                  JOIN articles a ON a.id = t.article_id
                  WHERE a.story_id = s.id AND t.topic = %(topic)s AND t.score >= %(min_score)s
                    AND a.retracted_at IS NULL
                  ORDER BY t.score DESC, a.id LIMIT 1) best ON true
    JOIN articles r ON r.id = best.article_id
    LEFT JOIN sources src ON src.id = r.source_id
    JOIN story_overview ov ON ov.story_id = s.id
    WHERE s.created_at >= %(since)s
      AND NOT EXISTS (SELECT 1 FROM alerts al WHERE al.rule = %(rule)s AND al.story_id = s.id)
      AND (NOT %(per_event)s OR (s.event_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM alerts al WHERE al.rule = %(rule)s AND al.event_id = s.event_id)))
    ORDER BY s.id"""


def enqueue_alerts(settings: Settings, config: AlertConfig, now: datetime | None = None) -> int:
    """Record an alert for every new story matching a rule; returns how many were recorded."""
    now = now or datetime.now(UTC)
    created = 0
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        for rule in config.rules:
            cur.execute(_CANDIDATES, {"topic": rule.topic, "min_score": rule.min_score, "rule": rule.name,
                                      "since": now - LOOKBACK, "per_event": rule.per == "event"})
            alerted_events: set[int] = set()
            rows: list[tuple[Any, ...]] = []
            for row in cur.fetchall():
                facts = StoryFacts(
                    story_id=row[0], title=row[1], url=row[2], source=row[3], source_tags=tuple(row[4]),
                    language=row[5], published_at=row[6], score=float(row[7]), entities=tuple(row[14]),
                    why=row[8] or {}, article_count=row[10], source_count=row[11], sources=tuple(row[12]),
                    languages=tuple(row[13]))
                matched, reasons = rule_matches(rule, facts)
                if not matched:
                    continue
                # per event: the first matching story of an event alerts; its other stories (other
                # outlets, other languages) update the event and alert no more under this rule
                event_id = row[15] if rule.per == "event" else None
                if event_id is not None:
                    if event_id in alerted_events:
                        continue
                    alerted_events.add(event_id)
                message = render_alert(rule, facts)
                rows.append((rule.name, facts.story_id, row[9], rule.mode, facts.score, facts.title,
                             json.dumps({"message": _message_json(message), "facts": _facts_json(facts),
                                         "reasons": reasons, "event_id": event_id}, default=str), event_id))
            if not rows:
                continue
            # one statement per rule; a row another run recorded first is skipped (not returned)
            inserted = execute_values(cur, """
                INSERT INTO alerts (rule, story_id, article_id, mode, score, title, payload, event_id)
                VALUES %s ON CONFLICT DO NOTHING RETURNING id""", rows,
                template="(%s, %s, %s, %s, %s, %s, %s::jsonb, %s)", fetch=True)
            created += len(inserted)
            if rule.mode == "immediate" and inserted:
                due = next_allowed_time(rule, now)
                execute_values(cur, """INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at)
                                       VALUES %s ON CONFLICT DO NOTHING""",
                               [(alert_id, channel, due) for (alert_id,) in inserted
                                for channel in rule.channels])
    if created:
        log.info("recorded %d new alert(s)", created)
    return created


def report_day(rule: Rule, tick: datetime) -> date:
    """The UTC day of the report attached to the digest closing at ``tick``: the day of the middle
    of its period (previous tick to ``tick``), or of 12 hours before ``tick`` for periods longer
    than a day — the day the digest is mostly about. For the daily 07:00 digest it is the day
    before the tick: a whole day, not the 7 hours since midnight."""
    from croniter import croniter

    previous = croniter(rule.digest_cron, tick).get_prev(datetime).replace(tzinfo=UTC)
    back = min((tick - previous) / 2, timedelta(hours=12))
    return (tick - back).astimezone(UTC).date()


def _digest_report(settings: Settings, rule: Rule, tick: datetime) -> tuple[list[dict[str, Any]],
                                                                            dict[str, Any], str]:
    """The stored attachments (empty when not attached), the report's facts for the message
    payload, and the line the message body gets about it."""
    from newsmon.analysts.htmlreport import collect_report_data, render_report

    day = report_day(rule, tick)
    filename = f"newsmon-report-{rule.name}-{day.isoformat()}.html"
    info: dict[str, Any] = {"filename": filename, "day": day.isoformat(), "topic": rule.topic}
    command = f"newsmon report --day {day.isoformat()} --topic {rule.topic}"
    try:
        page = render_report(collect_report_data(settings.database_url, day=day, topic=rule.topic))
    except Exception as exc:  # a report must never hold back the digest itself
        reason = " ".join(str(exc).split()) or type(exc).__name__
        known = isinstance(exc, NewsmonError | psycopg2.Error)
        log.warning("digest of rule %s: no HTML report: %s", rule.name, reason, exc_info=not known)
        info["omitted"] = f"could not be made: {reason}"
        return [], info, f"HTML report not attached: it could not be made ({reason}). Try: {command}"
    content = page.encode("utf-8")
    info.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest())
    if len(content) > MAX_REPORT_BYTES:
        info["omitted"] = f"larger than {MAX_REPORT_BYTES} bytes"
        return [], info, (f"HTML report not attached: it is {len(content) / 2**20:.1f} MB, over the "
                          f"{MAX_REPORT_BYTES / 2**20:.1f} MB limit. Get it with: {command}")
    stored = {"filename": filename, "mimetype": "text/html", "text": page, "sha256": info["sha256"]}
    return [stored], info, (f"Attached: HTML report {filename} (topic {rule.topic}, {day.isoformat()}, "
                            f"{max(1, round(len(content) / 1024))} KB).")


def build_digests(settings: Settings, config: AlertConfig, now: datetime | None = None) -> int:
    """Close the current period of every digest rule that has alerts waiting; returns how many
    digests were created (a digest per rule and schedule tick, never two)."""
    from croniter import croniter

    now = now or datetime.now(UTC)
    made = 0
    for rule in (r for r in config.rules if r.mode == "digest"):
        tick = croniter(rule.digest_cron, now.astimezone(UTC)).get_prev(datetime).replace(tzinfo=UTC)
        with transaction(settings.database_url) as conn, conn.cursor() as cur:
            cur.execute("""SELECT id, story_id, payload, created_at FROM alerts
                           WHERE rule = %s AND mode = 'digest' AND digest_id IS NULL AND created_at <= %s
                           ORDER BY created_at, id FOR UPDATE""", (rule.name, tick))
            waiting = cur.fetchall()
            if not waiting:
                continue
            cur.execute("""SELECT a.story_id, count(*) FROM articles a
                           JOIN alerts al ON al.story_id = a.story_id
                           WHERE al.id = ANY(%s) AND a.created_at > al.created_at GROUP BY a.story_id""",
                        ([w[0] for w in waiting],))
            updates = dict(cur.fetchall())
            stories = [_facts_from_json(w[2]["facts"]) for w in waiting]
            message = render_digest(rule, stories, updates)
            stored: dict[str, Any] = {}
            if rule.attach_report:
                attachments, info, note = _digest_report(settings, rule, tick)
                message = replace(message, body=f"{message.body}\n\n{note}",
                                  payload={**message.payload, "report": info})
                stored["attachments"] = attachments
            cur.execute("""INSERT INTO alert_digests (rule, period_key, payload) VALUES (%s, %s, %s::jsonb)
                           ON CONFLICT (rule, period_key) DO NOTHING RETURNING id""",
                        (rule.name, tick.isoformat(),
                         json.dumps({"message": _message_json(message), **stored})))
            inserted = cur.fetchone()
            if inserted is None:
                continue
            cur.execute("UPDATE alerts SET digest_id = %s WHERE id = ANY(%s)",
                        (inserted[0], [w[0] for w in waiting]))
            due = next_allowed_time(rule, now)
            execute_values(cur, "INSERT INTO alert_deliveries (digest_id, channel, next_attempt_at) "
                                "VALUES %s",
                           [(inserted[0], channel, due) for channel in rule.channels])
            made += 1
    return made


def deliver_due(settings: Settings, config: AlertConfig, now: datetime | None = None,
                env: Mapping[str, str] | None = None, limit: int = 200) -> dict[str, int]:
    """Send every due delivery once; returns counts by outcome (sent, retry, failed, unknown)."""
    now = now or datetime.now(UTC)
    counts = {"sent": 0, "retry": 0, "failed": 0, "unknown": 0}
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("""UPDATE alert_deliveries SET status = 'unknown',
                              last_error = 'the sender stopped between sending and recording it: not sent '
                                           'again automatically (newsmon alerts replay resends it)'
                       WHERE status = 'sending' AND claimed_at < %s""", (now - SENDING_TIMEOUT,))
        counts["unknown"] = cur.rowcount
        cur.execute("""UPDATE alert_deliveries d SET status = 'sending', attempts = d.attempts + 1,
                              claimed_at = %(now)s
                       WHERE d.id IN (SELECT id FROM alert_deliveries
                                      WHERE status = 'pending' AND next_attempt_at <= %(now)s
                                      ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
                       RETURNING d.id, d.channel, d.attempts,
                                 COALESCE((SELECT payload FROM alerts WHERE id = d.alert_id),
                                          (SELECT payload FROM alert_digests WHERE id = d.digest_id))""",
                    {"now": now, "limit": limit})
        claimed = cur.fetchall()  # committed as 'sending' before anything is sent
    for delivery_id, channel_name, attempts, payload in claimed:
        outcome, error = _send_one(config, channel_name, payload, env)
        with transaction(settings.database_url) as conn, conn.cursor() as cur:
            if outcome == "sent":
                cur.execute("""UPDATE alert_deliveries SET status = 'sent', sent_at = %s, last_error = NULL
                               WHERE id = %s""", (datetime.now(UTC), delivery_id))
            elif outcome == "retry" and attempts < MAX_ATTEMPTS:
                cur.execute("""UPDATE alert_deliveries SET status = 'pending', next_attempt_at = %s,
                                      last_error = %s WHERE id = %s""",
                            (now + _backoff(attempts), error, delivery_id))
            else:
                outcome = "failed"
                cur.execute("UPDATE alert_deliveries SET status = 'failed', last_error = %s WHERE id = %s",
                            (error, delivery_id))
        counts[outcome] += 1
        if error:
            log.warning("delivery %d to %s: %s (%s)", delivery_id, channel_name, error, outcome)
    return counts


def _send_one(config: AlertConfig, channel_name: str, payload: Mapping[str, Any] | None,
              env: Mapping[str, str] | None) -> tuple[str, str | None]:
    if channel_name not in config.channels:
        return "failed", f"channel {channel_name!r} is no longer configured"
    data = (payload or {}).get("message") or {}
    attachments = tuple(Attachment(item["filename"], item["text"].encode("utf-8"),
                                   item.get("mimetype") or "application/octet-stream")
                        for item in (payload or {}).get("attachments") or [])
    message = Message(title=data.get("title", ""), body=data.get("body", ""), payload=data.get("payload", {}),
                      attachments=attachments)
    try:
        send(resolve_channel(config.channels[channel_name], env), message)
    except NotifyError as exc:
        return ("retry" if exc.transient else "failed"), str(exc)
    return "sent", None


def replay(settings: Settings, alert_id: int) -> int:
    """Queue alert ``alert_id`` again on all its channels (a deliberate resend); returns how many.
    An alert of a digest rule resends its whole digest, as stored (same text, same attachment)."""
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("""UPDATE alert_deliveries SET status = 'pending', next_attempt_at = now(), attempts = 0,
                              last_error = NULL
                       WHERE alert_id = %(id)s
                          OR digest_id = (SELECT digest_id FROM alerts WHERE id = %(id)s)""",
                    {"id": alert_id})
        return cur.rowcount


def rule_by_name(config: AlertConfig, name: str) -> Rule | None:
    return next((r for r in config.rules if r.name == name), None)


# -- ops notifications ---------------------------------------------------------------------------

def ops_channel_names(config: AlertConfig, env: Mapping[str, str] | None = None) -> list[str]:
    """Channels for ops messages: NEWSMON_OPS_CHANNELS (comma-separated names), else ``ops``."""
    import os

    env = os.environ if env is None else env
    names = [n.strip() for n in env.get("NEWSMON_OPS_CHANNELS", "").split(",") if n.strip()]
    names = names or (["ops"] if "ops" in config.channels else [])
    unknown = [n for n in names if n not in config.channels]
    if unknown:
        raise NotifyError(f"NEWSMON_OPS_CHANNELS names unknown channel(s) {unknown}; configured: "
                          f"{sorted(config.channels)}", transient=False)
    return names


def unconfigured_ops_channels(config: AlertConfig, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Ops channels that cannot send because their variable is unset: {channel: variable}. An unset
    ops channel is a deployment choice, reported once at start-up (``make up``), not on every failure."""
    import os

    from newsmon.alerts.rules import default_channel_env

    env = os.environ if env is None else env
    missing = {}
    for name in ops_channel_names(config, env):
        channel = config.channels[name]
        var = channel.env or default_channel_env(channel.name)
        if channel.kind == "apprise" and not (env.get(var) or "").strip():
            missing[name] = var
    return missing


def send_ops(config: AlertConfig, title: str, body: str, payload: dict[str, Any],
             env: Mapping[str, str] | None = None) -> list[str]:
    """Send an ops message to every configured ops channel (those whose URL variable is unset are
    skipped: see unconfigured_ops_channels); returns the errors (empty when all went)."""
    errors = []
    unset = unconfigured_ops_channels(config, env)
    for name in ops_channel_names(config, env):
        if name in unset:
            log.debug("ops channel %s skipped: %s is not set", name, unset[name])
            continue
        try:
            message = Message(title=title, body=body, payload=payload)
            send(resolve_channel(config.channels[name], env), message)
        except NotifyError as exc:
            errors.append(f"{name}: {exc}")
    return errors


def notify_ops_changes(settings: Settings, config: AlertConfig, env: Mapping[str, str] | None = None,
                       dag_id: str = "news_ingest") -> list[str]:
    """Tell ops, once per change of state, about feeds turning failing or silent (and recovering)
    and about an ingest run that loaded nothing while feeds are active. Returns what was sent.
    With no ops channel configured nothing is recorded, so the changes are told once one is."""
    names = ops_channel_names(config, env)
    if not names or set(names) <= set(unconfigured_ops_channels(config, env)):
        return []
    with transaction(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT key, state FROM ops_notifications")
        known = dict(cur.fetchall())
        cur.execute("""SELECT name, health, COALESCE(last_error, last_warning, '') FROM sources
                       WHERE enabled ORDER BY name""")
        sources = cur.fetchall()
        cur.execute("""SELECT run_id, feeds_polled, feeds_failed, entries_new FROM pipeline_runs
                       WHERE dag_id = %s AND status <> 'running'
                       ORDER BY started_at DESC LIMIT 1""", (dag_id,))
        last_run = cur.fetchone()
    changes: list[tuple[str, str, str, str]] = []  # key, new state, title, body
    for name, health, message in sources:
        state = health if health in ("failing", "silent") else "ok"
        key = f"source:{name}"
        if state != known.get(key, "ok"):
            title = f"newsmon: feed {name} " + (f"is {state}" if state != "ok" else "recovered")
            body = {"failing": f"The feed {name} keeps failing: {message}. It is retried with backoff.",
                    "silent": f"The feed {name} has published nothing for much longer than usual.",
                    "ok": f"The feed {name} is healthy again."}[state]
            changes.append((key, state, title, body))
    if last_run is not None:
        run_id, polled, failed, new = last_run
        state = "nothing" if polled > failed and new == 0 and polled > 0 else "ok"
        if state != known.get("ingest:nothing", "ok"):
            title = ("newsmon: the last ingest run loaded nothing" if state == "nothing"
                     else "newsmon: ingest runs load articles again")
            body = (f"Run {run_id} polled {polled} feed(s) and found no new item." if state == "nothing"
                    else f"Run {run_id} found new items again.")
            changes.append(("ingest:nothing", state, title, body))
    sent = []
    for key, state, title, body in changes:
        errors = send_ops(config, title, body, {"key": key, "state": state}, env)
        if errors:  # state not recorded: the change is announced again next time
            log.warning("ops notification %r not delivered: %s", title, "; ".join(errors))
            continue
        with transaction(settings.database_url) as conn, conn.cursor() as cur:
            cur.execute("""INSERT INTO ops_notifications (key, state) VALUES (%s, %s)
                           ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state, notified_at = now()""",
                        (key, state))
        sent.append(title)
    return sent
