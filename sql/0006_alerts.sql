-- 0006: the alerts outbox. One alert per (rule, story), enforced by a unique constraint: later
-- articles of the story never re-alert. Each alert (or digest) is delivered once per channel;
-- a delivery is claimed ('sending') in its own transaction before it is sent, so reruns,
-- retried tasks and overlapping runs never send it twice.

CREATE TABLE alert_digests (
    id          bigserial PRIMARY KEY,
    rule        text NOT NULL,
    period_key  text NOT NULL,            -- the schedule tick the digest closes (ISO time)
    created_at  timestamptz NOT NULL DEFAULT now(),
    payload     jsonb NOT NULL DEFAULT '{}',
    UNIQUE (rule, period_key)
);

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    rule        text NOT NULL,
    story_id    bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    article_id  bigint REFERENCES articles (id) ON DELETE SET NULL,   -- the article that matched
    mode        text NOT NULL CHECK (mode IN ('immediate', 'digest')),
    score       real NOT NULL,
    title       text,
    payload     jsonb NOT NULL DEFAULT '{}',  -- the rendered message and why it matched
    digest_id   bigint REFERENCES alert_digests (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (rule, story_id)
);
CREATE INDEX alerts_undigested_idx ON alerts (rule) WHERE mode = 'digest' AND digest_id IS NULL;

CREATE TABLE alert_deliveries (
    id              bigserial PRIMARY KEY,
    alert_id        bigint REFERENCES alerts (id) ON DELETE CASCADE,
    digest_id       bigint REFERENCES alert_digests (id) ON DELETE CASCADE,
    channel         text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_at      timestamptz,
    sent_at         timestamptz,
    last_error      text,
    CHECK ((alert_id IS NULL) <> (digest_id IS NULL)),
    UNIQUE (alert_id, channel),
    UNIQUE (digest_id, channel)
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE status = 'pending';

-- Ops notifications are sent once per change of state (a feed turning failing, a run that
-- ingests nothing): the last state notified per key.
CREATE TABLE ops_notifications (
    key          text PRIMARY KEY,     -- 'source:<name>', 'ingest:nothing'
    state        text NOT NULL,
    notified_at  timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW alert_status AS
SELECT a.id AS alert_id, a.rule, a.mode, a.story_id, a.title, a.score, a.created_at,
       d.channel, d.status, d.attempts, d.next_attempt_at, d.sent_at, d.last_error
FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id;
