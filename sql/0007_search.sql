-- 0007: full-text search over articles. A stored, weighted tsvector (title A, text B) built in
-- the text-search configuration of the article's language, accents folded where the language
-- wants it (unaccent), kept current by a trigger, and a GIN index. newsmon_ts_config() maps a
-- language code to its configuration for the trigger and for queries alike.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- Accent-insensitive configurations: "securite" finds "sécurité", "Muenchen"/"Munchen" style
-- spellings meet. Russian keeps its own configuration (unaccent would fold й into и).
CREATE TEXT SEARCH CONFIGURATION newsmon_french (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION newsmon_french
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

CREATE TEXT SEARCH CONFIGURATION newsmon_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION newsmon_english
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

CREATE TEXT SEARCH CONFIGURATION newsmon_german (COPY = pg_catalog.german);
ALTER TEXT SEARCH CONFIGURATION newsmon_german
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, german_stem;

CREATE TEXT SEARCH CONFIGURATION newsmon_spanish (COPY = pg_catalog.spanish);
ALTER TEXT SEARCH CONFIGURATION newsmon_spanish
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;

CREATE TEXT SEARCH CONFIGURATION newsmon_simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION newsmon_simple
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

CREATE FUNCTION newsmon_ts_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE split_part(replace(lower(COALESCE(language, '')), '_', '-'), '-', 1)
               WHEN 'fr' THEN 'newsmon_french'::regconfig
               WHEN 'en' THEN 'newsmon_english'::regconfig
               WHEN 'de' THEN 'newsmon_german'::regconfig
               WHEN 'es' THEN 'newsmon_spanish'::regconfig
               WHEN 'ru' THEN 'pg_catalog.russian'::regconfig
               ELSE 'newsmon_simple'::regconfig
           END
$$;
COMMENT ON FUNCTION newsmon_ts_config(text) IS
    'Text-search configuration for an ISO 639-1 language code (fr, en, de, es, ru; newsmon_simple '
    'otherwise). Used by the articles search_vector trigger and by search queries.';

ALTER TABLE articles ADD COLUMN search_vector tsvector;
COMMENT ON COLUMN articles.search_vector IS
    'Full-text vector: title (weight A) and text (weight B) in newsmon_ts_config(language); '
    'maintained by the articles_search_vector trigger.';

CREATE FUNCTION articles_search_vector_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig := newsmon_ts_config(NEW.language);
BEGIN
    -- The text is capped so that a pathological page cannot exceed the 1 MB tsvector limit.
    NEW.search_vector := setweight(to_tsvector(cfg, COALESCE(NEW.title, '')), 'A')
                      || setweight(to_tsvector(cfg, left(COALESCE(NEW.text, ''), 300000)), 'B');
    RETURN NEW;
END
$$;

CREATE TRIGGER articles_search_vector
    BEFORE INSERT OR UPDATE OF title, text, language ON articles
    FOR EACH ROW EXECUTE FUNCTION articles_search_vector_update();

-- Backfill (fires the trigger: the UPDATE names the text column).
UPDATE articles SET text = text;

CREATE INDEX articles_search_idx ON articles USING gin (search_vector);
