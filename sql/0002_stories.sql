-- 0002: stories. Every article belongs to a story: exact copies (same canonical URL or same
-- normalized text, recorded on feed_entries) and near-duplicates (MinHash over word shingles,
-- LSH band keys in an indexed table) join one story; a changed text under the same URL is a
-- new version of the article, kept in article_versions.

CREATE TABLE stories (
    id                        bigserial PRIMARY KEY,
    representative_article_id bigint REFERENCES articles (id) ON DELETE SET NULL,
    title                     text,
    first_seen_at             timestamptz NOT NULL,
    last_seen_at              timestamptz NOT NULL,
    article_count             integer NOT NULL DEFAULT 0,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stories_first_seen_idx ON stories (first_seen_at DESC);

ALTER TABLE articles
    ADD COLUMN story_id         bigint REFERENCES stories (id) ON DELETE SET NULL,
    ADD COLUMN story_join       text CHECK (story_join IN ('first', 'near', 'update')),
    ADD COLUMN story_similarity real,
    ADD COLUMN version          integer NOT NULL DEFAULT 1;
CREATE INDEX articles_story_idx ON articles (story_id);

-- One fingerprint per article, computed once when its text is stored (or replaced).
CREATE TABLE article_fingerprints (
    article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    signature  bytea NOT NULL,          -- NUM_PERM little-endian uint32 MinHash values
    shingles   integer NOT NULL         -- size of the word-shingle set
);

-- The LSH index: one row per (band key, article). A lookup is an index probe per band key of
-- the new article, so its cost grows with the log of the corpus, not with its size.
CREATE TABLE article_bands (
    band_key   bigint NOT NULL,
    article_id bigint NOT NULL   -- article_fingerprints.article_id (rows are replaced with it)
);
-- A hash index: one or two page reads per probe whatever the table size (a btree needs one
-- per level, and grows them). Replacing a fingerprint deletes its rows by their keys.
CREATE INDEX article_bands_key_idx ON article_bands USING hash (band_key);

CREATE TABLE article_versions (
    id            bigserial PRIMARY KEY,
    article_id    bigint NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    version       integer NOT NULL,     -- the version this row preserves (replaced by version + 1)
    title         text,
    text          text NOT NULL,
    content_hash  text,
    published_at  timestamptz,
    replaced_at   timestamptz NOT NULL DEFAULT now(),
    changes       jsonb NOT NULL DEFAULT '{}',  -- title_changed, chars_before/after, similarity
    UNIQUE (article_id, version)
);

ALTER TABLE pipeline_runs
    ADD COLUMN stories_new     integer NOT NULL DEFAULT 0,
    ADD COLUMN near_duplicates integer NOT NULL DEFAULT 0,
    ADD COLUMN versions_new    integer NOT NULL DEFAULT 0;

-- Articles stored before this migration each start a story of their own (their fingerprints
-- are computed when their text next changes).
INSERT INTO stories (representative_article_id, title, first_seen_at, last_seen_at, article_count)
SELECT id, title, COALESCE(published_at, created_at), COALESCE(published_at, created_at), 1 FROM articles;
UPDATE articles a SET story_id = s.id, story_join = 'first'
FROM stories s WHERE s.representative_article_id = a.id;
