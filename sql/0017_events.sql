-- 0017: events — the same happening, reported by many sources in many words and languages, as
-- one event above its stories (newsmon.events). Built online, batch by batch, after tagging.

CREATE TABLE events (
    id            bigserial PRIMARY KEY,
    title         text,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    story_count   integer NOT NULL DEFAULT 0,
    centroid      jsonb NOT NULL DEFAULT '{}',   -- sum of the members' evidence key vectors
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_last_seen_idx ON events (last_seen_at);

CREATE TABLE event_stories (
    story_id    bigint PRIMARY KEY REFERENCES stories (id) ON DELETE CASCADE,
    event_id    bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    seen_at     timestamptz NOT NULL,
    language    text,
    score       real,                       -- NULL for the story that started the event
    why         jsonb NOT NULL DEFAULT '{}',
    evidence    jsonb NOT NULL DEFAULT '{}', -- {keys: {key: weight}, labels: {key: text}}
    topic       text,
    topic_score real NOT NULL DEFAULT 0,
    joined_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_stories_event_idx ON event_stories (event_id);

-- The candidate index: which events carry an evidence key on which day. A story looks up its
-- keys on the days of the window, never scanning events.
CREATE TABLE event_keys (
    key       text NOT NULL,
    day       integer NOT NULL,             -- days since 1970-01-01, UTC
    event_id  bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (key, day, event_id)
);
CREATE INDEX event_keys_event_idx ON event_keys (event_id);

CREATE TABLE event_splits (
    id           bigserial PRIMARY KEY,
    story_id     bigint NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    from_event_id bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    to_event_id  bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    why          jsonb NOT NULL DEFAULT '{}',
    decided_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_splits_from_idx ON event_splits (from_event_id);

-- The stories still waiting for an event (a partial index: the queue stays small).
ALTER TABLE stories ADD COLUMN event_id bigint REFERENCES events (id) ON DELETE SET NULL;
CREATE INDEX stories_without_event_idx ON stories (first_seen_at, id) WHERE event_id IS NULL;

-- One row per event: span, size, languages, sources, top entities, best topic score.
CREATE VIEW event_overview AS
SELECT e.id AS event_id,
       e.title,
       e.first_seen_at,
       e.last_seen_at,
       e.story_count AS stories,
       (SELECT count(*) FROM event_stories es JOIN articles a ON a.story_id = es.story_id
         WHERE es.event_id = e.id AND a.retracted_at IS NULL) AS articles,
       (SELECT COALESCE(array_agg(DISTINCT a.language ORDER BY a.language)
                        FILTER (WHERE a.language IS NOT NULL), '{}')
          FROM event_stories es JOIN articles a ON a.story_id = es.story_id
         WHERE es.event_id = e.id AND a.retracted_at IS NULL) AS languages,
       (SELECT COALESCE(array_agg(DISTINCT src.name ORDER BY src.name), '{}')
          FROM event_stories es JOIN articles a ON a.story_id = es.story_id
          JOIN sources src ON src.id = a.source_id
         WHERE es.event_id = e.id AND a.retracted_at IS NULL) AS sources,
       (SELECT COALESCE(array_agg(t.name ORDER BY t.n DESC, t.name), '{}')
          FROM (SELECT en.name, count(DISTINCT es.story_id) AS n
                  FROM event_stories es JOIN stories s ON s.id = es.story_id
                  JOIN article_entities ae ON ae.article_id = s.representative_article_id
                  JOIN entities en ON en.id = ae.entity_id
                 WHERE es.event_id = e.id
                 GROUP BY en.name ORDER BY n DESC, en.name LIMIT 5) t) AS top_entities,
       (SELECT max(es.topic_score) FROM event_stories es WHERE es.event_id = e.id) AS best_topic_score,
       (SELECT es.topic FROM event_stories es WHERE es.event_id = e.id AND es.topic IS NOT NULL
         ORDER BY es.topic_score DESC LIMIT 1) AS best_topic
FROM events e
WHERE e.story_count > 0;

-- Per event and language: how many stories and articles, and from when.
CREATE VIEW event_language_coverage AS
SELECT es.event_id,
       a.language,
       count(DISTINCT es.story_id) AS stories,
       count(*) AS articles,
       count(DISTINCT a.source_id) AS sources,
       min(COALESCE(a.published_at, a.created_at)) AS first_seen_at
FROM event_stories es
JOIN articles a ON a.story_id = es.story_id
WHERE a.retracted_at IS NULL AND a.language IS NOT NULL
GROUP BY es.event_id, a.language;

COMMENT ON TABLE events IS
    'One row per event: a happening reported by one or more stories, in any language, grouped by '
    'newsmon.events from language-independent evidence (entity ids, topic concepts, numbers, dates, names).';
COMMENT ON COLUMN events.id IS 'Event id.';
COMMENT ON COLUMN events.title IS 'Title of the earliest story of the event.';
COMMENT ON COLUMN events.first_seen_at IS 'When the earliest story of the event was seen.';
COMMENT ON COLUMN events.last_seen_at IS 'When the latest story of the event was seen.';
COMMENT ON COLUMN events.story_count IS 'Stories in the event now (members that split off are not counted).';
COMMENT ON COLUMN events.centroid IS 'Sum of the members'' evidence key weights (what new stories are compared with).';
COMMENT ON COLUMN events.created_at IS 'When the event was created.';
COMMENT ON COLUMN events.updated_at IS 'When the event last changed (a member joined or left).';

COMMENT ON TABLE event_stories IS
    'Which event each story belongs to, and why: the score and the shared evidence of the link (why), '
    'and the story''s own evidence keys.';
COMMENT ON COLUMN event_stories.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN event_stories.event_id IS 'Its event (events.id).';
COMMENT ON COLUMN event_stories.seen_at IS 'When the story was first seen.';
COMMENT ON COLUMN event_stories.language IS 'Language of the story''s representative article.';
COMMENT ON COLUMN event_stories.score IS 'Score of the link to the event (0-1); NULL for the story that started it.';
COMMENT ON COLUMN event_stories.why IS
    'Why: decision (joined/new), score, cosine, time factor, hours apart, shared keys with their labels '
    'and contributions, runner-up event; after a split, split_from and the scores that decided it.';
COMMENT ON COLUMN event_stories.evidence IS 'The story''s evidence: {keys: {key: weight}, labels: {key: text}}.';
COMMENT ON COLUMN event_stories.topic IS 'Best matched topic of the story, if any.';
COMMENT ON COLUMN event_stories.topic_score IS 'Score of that topic (0 without one).';
COMMENT ON COLUMN event_stories.joined_at IS 'When the story was placed in this event.';

COMMENT ON TABLE event_keys IS
    'Candidate index: the events carrying an evidence key (e:QID, c:concept, n:number, d:MM-DD, w:name) on a day.';
COMMENT ON COLUMN event_keys.key IS 'Evidence key.';
COMMENT ON COLUMN event_keys.day IS 'Day (days since 1970-01-01, UTC) of the member story that carried it.';
COMMENT ON COLUMN event_keys.event_id IS 'The event.';

COMMENT ON TABLE event_splits IS
    'Members that left their event because the rest of the event no longer supported them, and where they went.';
COMMENT ON COLUMN event_splits.id IS 'Split id.';
COMMENT ON COLUMN event_splits.story_id IS 'The story that left.';
COMMENT ON COLUMN event_splits.from_event_id IS 'The event it left.';
COMMENT ON COLUMN event_splits.to_event_id IS 'The event it was placed in then.';
COMMENT ON COLUMN event_splits.why IS 'Its leave-one-out score against the rest of the event, the threshold, the members before.';
COMMENT ON COLUMN event_splits.decided_at IS 'When.';

COMMENT ON COLUMN stories.event_id IS 'The story''s event (events.id); NULL until assigned.';

COMMENT ON VIEW event_overview IS
    'One row per event: span, size, languages, sources, the five entities most of its stories name, best topic score.';
COMMENT ON COLUMN event_overview.event_id IS 'The event (events.id).';
COMMENT ON COLUMN event_overview.title IS 'Title of its earliest story.';
COMMENT ON COLUMN event_overview.first_seen_at IS 'When the event was first seen.';
COMMENT ON COLUMN event_overview.last_seen_at IS 'When the event was last seen.';
COMMENT ON COLUMN event_overview.stories IS 'Stories in the event.';
COMMENT ON COLUMN event_overview.articles IS 'Articles (not retracted) of those stories.';
COMMENT ON COLUMN event_overview.languages IS 'Languages of those articles.';
COMMENT ON COLUMN event_overview.sources IS 'Sources of those articles.';
COMMENT ON COLUMN event_overview.top_entities IS 'Up to five entities named by the most stories of the event.';
COMMENT ON COLUMN event_overview.best_topic_score IS 'Best topic score of its stories (NULL: none matched).';
COMMENT ON COLUMN event_overview.best_topic IS 'The topic of that score.';

COMMENT ON VIEW event_language_coverage IS
    'Coverage of each event by language: stories, articles, sources and first appearance per language.';
COMMENT ON COLUMN event_language_coverage.event_id IS 'The event (events.id).';
COMMENT ON COLUMN event_language_coverage.language IS 'Language.';
COMMENT ON COLUMN event_language_coverage.stories IS 'Stories of the event with articles in this language.';
COMMENT ON COLUMN event_language_coverage.articles IS 'Articles of the event in this language (not retracted).';
COMMENT ON COLUMN event_language_coverage.sources IS 'Sources of those articles.';
COMMENT ON COLUMN event_language_coverage.first_seen_at IS 'When the event was first seen in this language.';

GRANT SELECT ON events, event_stories, event_splits, event_overview, event_language_coverage
    TO newsmon_reader;
