-- 0001: schema v1 — sources, raw feed entries (the work queue), articles, pipeline runs.
-- Every load is an upsert on a natural key: sources.name, feed_entries(source_id, guid),
-- articles.canonical_url (and content_hash for exact copies), pipeline_runs(dag_id, run_id).

CREATE TABLE sources (
    id                   serial PRIMARY KEY,
    name                 text NOT NULL UNIQUE,
    url                  text NOT NULL,
    kind                 text NOT NULL DEFAULT 'auto',
    language             text,
    enabled              boolean NOT NULL DEFAULT true,
    tags                 text[] NOT NULL DEFAULT '{}',
    config               jsonb NOT NULL DEFAULT '{}',
    -- HTTP validators for conditional GET
    etag                 text,
    last_modified        text,
    -- health
    health               text NOT NULL DEFAULT 'active'
                         CHECK (health IN ('active', 'degraded', 'failing', 'paused', 'silent', 'removed')),
    last_polled_at       timestamptz,
    last_success_at      timestamptz,
    last_status          text CHECK (last_status IN ('ok', 'not_modified', 'empty', 'error')),
    last_http_status     integer,
    last_error           text,
    last_error_at        timestamptz,
    last_warning         text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    items_last_poll      integer,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feed_entries (
    id             bigserial PRIMARY KEY,
    source_id      integer NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    guid           text NOT NULL,
    link           text,
    canonical_url  text,
    title          text,
    summary        text NOT NULL DEFAULT '',
    content        text NOT NULL DEFAULT '',
    published_at   timestamptz,
    author         text,
    language       text,
    tags           text[] NOT NULL DEFAULT '{}',
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    -- work queue: pending -> done | retry (transient page failure) -> done | failed
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'retry', 'done', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    processed_at   timestamptz,
    article_id     bigint,
    dedup          text CHECK (dedup IN ('new', 'url', 'exact')),
    UNIQUE (source_id, guid)
);
CREATE INDEX feed_entries_queue_idx ON feed_entries (id) WHERE status IN ('pending', 'retry');

CREATE TABLE articles (
    id                  bigserial PRIMARY KEY,
    canonical_url       text NOT NULL UNIQUE,
    url                 text NOT NULL,
    source_id           integer REFERENCES sources (id) ON DELETE SET NULL,
    title               text,
    text                text NOT NULL DEFAULT '',
    author              text,
    language            text NOT NULL DEFAULT 'und',
    language_prob       real,
    language_method     text,
    published_at        timestamptz,
    fetched_at          timestamptz,
    content_hash        text,
    text_source         text NOT NULL CHECK (text_source IN ('page', 'feed', 'file')),
    extraction_status   text NOT NULL
                        CHECK (extraction_status IN ('ok', 'page_unavailable', 'no_article_text', 'not_fetched')),
    extraction_note     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX articles_content_hash_key ON articles (content_hash) WHERE content_hash IS NOT NULL;
CREATE INDEX articles_published_idx ON articles (published_at DESC);
CREATE INDEX articles_source_idx ON articles (source_id);

ALTER TABLE feed_entries
    ADD CONSTRAINT feed_entries_article_fk FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE SET NULL;

CREATE TABLE pipeline_runs (
    id                  bigserial PRIMARY KEY,
    dag_id              text NOT NULL,
    run_id              text NOT NULL,
    data_interval_start timestamptz,
    data_interval_end   timestamptz,
    started_at          timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    status              text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'failed')),
    feeds_polled        integer NOT NULL DEFAULT 0,
    feeds_not_modified  integer NOT NULL DEFAULT 0,
    feeds_failed        integer NOT NULL DEFAULT 0,
    entries_new         integer NOT NULL DEFAULT 0,
    pages_fetched       integer NOT NULL DEFAULT 0,
    fetch_failures      integer NOT NULL DEFAULT 0,
    articles_new        integer NOT NULL DEFAULT 0,
    articles_updated    integer NOT NULL DEFAULT 0,
    duplicates          integer NOT NULL DEFAULT 0,
    details             jsonb NOT NULL DEFAULT '{}',
    UNIQUE (dag_id, run_id)
);
