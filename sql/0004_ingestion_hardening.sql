-- 0004: polite, hardened ingestion — per-source scheduling and backoff, feed health, trust in
-- HTTP validators, robots.txt cache, agency item versions and retractions.

ALTER TABLE sources
    ADD COLUMN next_poll_at          timestamptz,           -- adaptive schedule / backoff
    ADD COLUMN poll_interval_seconds integer,               -- the interval chosen at the last poll
    ADD COLUMN failure_score         real NOT NULL DEFAULT 0,  -- weighted consecutive failures
    ADD COLUMN last_error_kind       text,                  -- hard | soft | policy
    ADD COLUMN last_new_item_at      timestamptz,
    ADD COLUMN items_per_day         real,
    ADD COLUMN body_hash             text,                  -- of the last 200 response
    ADD COLUMN polls_since_full      integer NOT NULL DEFAULT 0,
    ADD COLUMN validators_trusted    boolean NOT NULL DEFAULT true,
    ADD COLUMN validators_note       text,
    ADD COLUMN health_changed_at     timestamptz;

ALTER TABLE feed_entries
    ADD COLUMN version    integer,
    ADD COLUMN pub_status text NOT NULL DEFAULT 'usable' CHECK (pub_status IN ('usable', 'canceled', 'withheld')),
    ADD COLUMN dateline   text,
    ADD COLUMN subjects   text[] NOT NULL DEFAULT '{}',
    ADD COLUMN keywords   text[] NOT NULL DEFAULT '{}';

ALTER TABLE articles
    ADD COLUMN retracted_at  timestamptz,                   -- set when the agency cancels/withholds
    ADD COLUMN pub_status    text NOT NULL DEFAULT 'usable'
                             CHECK (pub_status IN ('usable', 'canceled', 'withheld')),
    ADD COLUMN agency_guid   text,
    ADD COLUMN agency_version integer;

ALTER TABLE articles DROP CONSTRAINT articles_extraction_status_check;
ALTER TABLE articles ADD CONSTRAINT articles_extraction_status_check
    CHECK (extraction_status IN ('ok', 'page_unavailable', 'no_article_text', 'not_fetched',
                                 'robots_disallowed', 'refused'));

ALTER TABLE pipeline_runs
    ADD COLUMN feeds_skipped   integer NOT NULL DEFAULT 0,  -- not due yet (adaptive schedule, backoff)
    ADD COLUMN entries_updated integer NOT NULL DEFAULT 0;  -- agency items re-queued (new version, retraction)

CREATE TABLE host_robots (
    host        text PRIMARY KEY,          -- scheme://host[:port]
    status      integer,                   -- HTTP status of /robots.txt (NULL: unreachable)
    body        text NOT NULL DEFAULT '',
    fetched_at  timestamptz NOT NULL DEFAULT now()
);

-- Feed health at a glance.
CREATE VIEW feed_health AS
SELECT name AS source, enabled, health, last_status, last_http_status,
       last_polled_at, last_success_at, next_poll_at, poll_interval_seconds,
       consecutive_failures, failure_score, last_error_kind, last_error, last_warning,
       last_new_item_at, items_per_day, items_last_poll, validators_trusted, validators_note
FROM sources;
