-- 0005: entities, keywords and topic scores per article, and the analyst views over them.

-- The gazetteer as loaded at the last tagging run (config/gazetteer is the source of truth);
-- entities found only by statistical NER are kept too, with origin 'ner' and no QID.
CREATE TABLE entities (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,         -- canonical name
    type        text NOT NULL CHECK (type IN ('PER', 'ORG', 'LOC', 'EVENT', 'MISC')),
    wikidata    text,
    side        text CHECK (side IN ('nato', 'russia', 'neutral')),
    origin      text NOT NULL DEFAULT 'gazetteer' CHECK (origin IN ('gazetteer', 'ner')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entity_aliases (
    entity_id   integer NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    language    text NOT NULL,
    alias       text NOT NULL,
    strength    text NOT NULL CHECK (strength IN ('strong', 'weak', 'short')),
    PRIMARY KEY (entity_id, language, alias, strength)
);

CREATE TABLE article_entities (
    article_id     bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    entity_id      integer NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    mentions       integer NOT NULL,
    in_title       boolean NOT NULL DEFAULT false,
    first_sentence integer,
    source         text NOT NULL DEFAULT 'gazetteer' CHECK (source IN ('gazetteer', 'ner')),
    occurrences    jsonb NOT NULL DEFAULT '[]',   -- [{surface, start, end, sentence, in_title, strength}]
    PRIMARY KEY (article_id, entity_id)
);
CREATE INDEX article_entities_entity_idx ON article_entities (entity_id);

CREATE TABLE article_keywords (
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('phrase', 'term')),   -- YAKE key phrase | topic term
    keyword     text NOT NULL,
    score       real NOT NULL,
    PRIMARY KEY (article_id, kind, keyword)
);

CREATE TABLE article_topics (
    article_id  bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    topic       text NOT NULL,
    score       real NOT NULL CHECK (score BETWEEN 0 AND 1),
    matched     boolean NOT NULL,
    why         jsonb NOT NULL DEFAULT '{}',      -- entities and terms and where they occurred
    PRIMARY KEY (article_id, topic)
);
CREATE INDEX article_topics_matched_idx ON article_topics (topic, score DESC) WHERE matched;

ALTER TABLE articles
    ADD COLUMN tagged_hash text,          -- content_hash (or text length) the tags were computed from
    ADD COLUMN tagged_at   timestamptz;
CREATE INDEX articles_untagged_idx ON articles (id) WHERE tagged_at IS NULL;

ALTER TABLE pipeline_runs ADD COLUMN articles_tagged integer NOT NULL DEFAULT 0;

-- Articles matching a topic, with their story and the reasons.
CREATE VIEW topic_articles AS
SELECT t.topic, t.score, a.id AS article_id, a.story_id, COALESCE(a.published_at, a.created_at) AS seen_at,
       a.language, s.name AS source, a.title, a.url, t.why
FROM article_topics t
JOIN articles a ON a.id = t.article_id
LEFT JOIN sources s ON s.id = a.source_id
WHERE t.matched AND a.retracted_at IS NULL;

-- Mentions of each entity per day (articles and mention counts).
CREATE VIEW entity_mentions_daily AS
SELECT e.name AS entity, e.type, e.wikidata,
       date_trunc('day', COALESCE(a.published_at, a.created_at))::date AS day,
       count(DISTINCT a.id) AS articles, sum(ae.mentions) AS mentions,
       count(DISTINCT a.story_id) AS stories
FROM article_entities ae
JOIN entities e ON e.id = ae.entity_id
JOIN articles a ON a.id = ae.article_id
GROUP BY e.name, e.type, e.wikidata, 4;

-- Entities named together in the same article.
CREATE VIEW entity_cooccurrence AS
SELECT e1.name AS entity_a, e2.name AS entity_b, count(*) AS articles,
       count(DISTINCT a.story_id) AS stories, max(COALESCE(a.published_at, a.created_at)) AS last_seen
FROM article_entities x
JOIN article_entities y ON y.article_id = x.article_id AND y.entity_id > x.entity_id
JOIN entities e1 ON e1.id = x.entity_id
JOIN entities e2 ON e2.id = y.entity_id
JOIN articles a ON a.id = x.article_id
GROUP BY e1.name, e2.name;
