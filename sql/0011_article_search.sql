-- 0011: the full-text vectors move from articles.search_vector to a narrow side table,
-- article_search, so that ranked search stays fast when a query matches a third of the archive.
--
-- Measured on 100k synthetic articles (python -m benchmarks.bench_search): a common term matched
-- 34k articles; with the vector on the wide articles row, finding them meant reading ~18k heap
-- pages and detoasting (decompressing) every vector, 300-700 ms. Here the heap holds only the
-- small columns (toast_tuple_target moves every vector out of line), so the matches and their
-- dates are read from a few MB, and vectors are detoasted only for the articles actually ranked.
-- One partial GIN index per text-search configuration lets a query be matched in each article's
-- own language without rechecking (and detoasting) every candidate.

-- No article may be stored between the backfill below and the new trigger: it would have
-- neither a vector in the retired column nor a row in article_search.
LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE article_search (
    article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    seen_at    timestamptz NOT NULL,
    language   text,
    config     regconfig NOT NULL,
    source_id  bigint,
    vector     tsvector NOT NULL
) WITH (toast_tuple_target = 128);

COMMENT ON TABLE article_search IS
    'Full-text search index of the current, non-retracted articles: one row per article, kept by '
    'the articles_search_insert/_update triggers. Query it with vector @@ websearch_to_tsquery(config, ...) joined '
    'to articles on article_id; newsmon search does the ranking and snippets.';
COMMENT ON COLUMN article_search.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_search.seen_at IS
    'The article''s publication time, else the time it was stored (used for --since and recency).';
COMMENT ON COLUMN article_search.language IS 'The article''s language code (articles.language).';
COMMENT ON COLUMN article_search.config IS
    'Text-search configuration the vector was built in: newsmon_ts_config(language).';
COMMENT ON COLUMN article_search.source_id IS 'The article''s source (articles.source_id).';
COMMENT ON COLUMN article_search.vector IS
    'Title (weight A) and text (weight B, first 300,000 characters) as a tsvector in config.';

CREATE FUNCTION newsmon_search_vector(config regconfig, title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(config, COALESCE(title, '')), 'A')
        || setweight(to_tsvector(config, left(COALESCE(body, ''), 300000)), 'B')
$$;
COMMENT ON FUNCTION newsmon_search_vector(regconfig, text, text) IS
    'The search vector of an article: title weighted A, text weighted B (capped at 300,000 '
    'characters so that no page can exceed the 1 MB tsvector limit).';

CREATE FUNCTION article_search_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
BEGIN
    IF NEW.retracted_at IS NOT NULL THEN
        DELETE FROM article_search WHERE article_id = NEW.id;
        RETURN NULL;
    END IF;
    cfg := newsmon_ts_config(NEW.language);
    INSERT INTO article_search AS s (article_id, seen_at, language, config, source_id, vector)
    VALUES (NEW.id, COALESCE(NEW.published_at, NEW.created_at), NEW.language, cfg, NEW.source_id,
            newsmon_search_vector(cfg, NEW.title, NEW.text))
    ON CONFLICT (article_id) DO UPDATE
        SET seen_at = EXCLUDED.seen_at, language = EXCLUDED.language, config = EXCLUDED.config,
            source_id = EXCLUDED.source_id, vector = EXCLUDED.vector;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION article_search_sync() IS
    'Trigger function: keeps the article_search row of an article current (removed when retracted).';

-- Moves the existing vectors (no re-parsing), then retires the column, its trigger and index.
INSERT INTO article_search (article_id, seen_at, language, config, source_id, vector)
SELECT id, COALESCE(published_at, created_at), language, newsmon_ts_config(language), source_id,
       COALESCE(search_vector, newsmon_search_vector(newsmon_ts_config(language), title, text))
FROM articles WHERE retracted_at IS NULL;

DROP TRIGGER articles_search_vector ON articles;
DROP FUNCTION articles_search_vector_update();
DROP INDEX articles_search_idx;
ALTER TABLE articles DROP COLUMN search_vector;

CREATE TRIGGER articles_search_insert
    AFTER INSERT ON articles
    FOR EACH ROW EXECUTE FUNCTION article_search_sync();
-- Only when a searched or filtered value really changes: loads that name these columns with
-- their old values (an agency status update, a re-seen page) do not re-parse the text.
CREATE TRIGGER articles_search_update
    AFTER UPDATE OF title, text, language, published_at, source_id, retracted_at ON articles
    FOR EACH ROW
    WHEN ((OLD.title, OLD.text, OLD.language, OLD.published_at, OLD.source_id, OLD.retracted_at)
          IS DISTINCT FROM
          (NEW.title, NEW.text, NEW.language, NEW.published_at, NEW.source_id, NEW.retracted_at))
    EXECUTE FUNCTION article_search_sync();

CREATE INDEX article_search_french ON article_search USING gin (vector)
    WHERE config = 'newsmon_french'::regconfig;
CREATE INDEX article_search_english ON article_search USING gin (vector)
    WHERE config = 'newsmon_english'::regconfig;
CREATE INDEX article_search_german ON article_search USING gin (vector)
    WHERE config = 'newsmon_german'::regconfig;
CREATE INDEX article_search_spanish ON article_search USING gin (vector)
    WHERE config = 'newsmon_spanish'::regconfig;
CREATE INDEX article_search_russian ON article_search USING gin (vector)
    WHERE config = 'pg_catalog.russian'::regconfig;
CREATE INDEX article_search_simple ON article_search USING gin (vector)
    WHERE config = 'newsmon_simple'::regconfig;
CREATE INDEX article_search_seen ON article_search (seen_at);

GRANT SELECT ON article_search TO newsmon_reader;
