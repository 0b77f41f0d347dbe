-- 0010: two analyst views — article_overview (each article as it stands now, with its story,
-- source and topic scores) and topic_stories (the stories of each topic) — documented and
-- readable by newsmon_reader.
--
-- Query plans (checked on 120k articles): both views are plain joins and aggregates, no
-- correlated subqueries, so the planner picks hash joins over whole tables for reports and index
-- lookups when the caller filters on article_id, story_id or topic (a filter on a view column
-- that is a grouping key reaches the base table's index).

-- Each article as it stands now: articles holds the latest version of every article (older texts
-- are in article_versions), so this is one row per article. Retracted articles are kept, flagged.
CREATE VIEW article_overview AS
SELECT a.id AS article_id,
       a.url,
       a.title,
       a.published_at,
       COALESCE(a.published_at, a.created_at) AS seen_at,
       a.language,
       src.name AS source,
       a.story_id,
       a.story_join,
       st.article_count AS story_articles,
       st.first_seen_at AS story_first_seen_at,
       a.version,
       a.retracted_at IS NOT NULL AS retracted,
       a.tagged_at,
       COALESCE(jsonb_object_agg(t.topic, t.score) FILTER (WHERE t.topic IS NOT NULL), '{}'::jsonb)
           AS topic_scores,
       (array_agg(t.topic ORDER BY t.score DESC, t.topic))[1] AS best_topic,
       max(t.score) AS best_score
FROM articles a
LEFT JOIN sources src ON src.id = a.source_id
LEFT JOIN stories st ON st.id = a.story_id
LEFT JOIN article_topics t ON t.article_id = a.id AND t.matched
GROUP BY a.id, src.name, st.article_count, st.first_seen_at;

-- One row per (topic, story) where at least one article of the story (not retracted) matched
-- the topic. The members' sources and languages are per-row subqueries on articles_story_idx:
-- computed only for the rows and columns a query asks for (a topic and time filter stays an index
-- lookup; a query that does not select them does not compute them at all).
CREATE VIEW topic_stories AS
SELECT m.topic,
       m.story_id,
       s.title,
       r.url,
       s.first_seen_at,
       s.last_seen_at,
       m.first_matched_at,
       s.article_count AS articles,
       m.matched_articles,
       m.best_score,
       m.best_article_id,
       (SELECT COALESCE(array_agg(DISTINCT src.name ORDER BY src.name), '{}')
          FROM articles x JOIN sources src ON src.id = x.source_id
         WHERE x.story_id = m.story_id AND x.retracted_at IS NULL) AS sources,
       (SELECT COALESCE(array_agg(DISTINCT x.language ORDER BY x.language)
                        FILTER (WHERE x.language IS NOT NULL), '{}')
          FROM articles x
         WHERE x.story_id = m.story_id AND x.retracted_at IS NULL) AS languages
FROM (
    SELECT t.topic,
           a.story_id,
           count(*) AS matched_articles,
           max(t.score) AS best_score,
           (array_agg(a.id ORDER BY t.score DESC, a.id))[1] AS best_article_id,
           min(COALESCE(a.published_at, a.created_at)) AS first_matched_at
    FROM article_topics t
    JOIN articles a ON a.id = t.article_id
    WHERE t.matched AND a.retracted_at IS NULL AND a.story_id IS NOT NULL
    GROUP BY t.topic, a.story_id
) m
JOIN stories s ON s.id = m.story_id
LEFT JOIN articles r ON r.id = s.representative_article_id;

COMMENT ON VIEW article_overview IS
    'One row per article as it stands now (its latest version; earlier texts are in article_versions), '
    'with its source, its story and the topics it matched. Retracted articles are included, with '
    'retracted = true: add WHERE NOT retracted to leave them out.';
COMMENT ON COLUMN article_overview.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_overview.url IS 'URL of the article.';
COMMENT ON COLUMN article_overview.title IS 'Title of the latest version.';
COMMENT ON COLUMN article_overview.published_at IS 'Publication time (from the page or the feed); NULL if unknown.';
COMMENT ON COLUMN article_overview.seen_at IS 'Publication time, or storage time when unknown.';
COMMENT ON COLUMN article_overview.language IS 'Language of the text as an ISO 639-1 code (en, fr, ...); und when undetermined.';
COMMENT ON COLUMN article_overview.source IS 'Name of the feed it came from first (NULL for imported files).';
COMMENT ON COLUMN article_overview.story_id IS 'Its story (stories.id).';
COMMENT ON COLUMN article_overview.story_join IS
    'How it joined its story: first (started it), near (near-duplicate of a member), update (new text under a known URL).';
COMMENT ON COLUMN article_overview.story_articles IS 'Number of articles in its story (this one included).';
COMMENT ON COLUMN article_overview.story_first_seen_at IS 'Publication (or storage) time of the earliest article of its story.';
COMMENT ON COLUMN article_overview.version IS
    'Version of the text: 1, then +1 each time the text under this URL changed (earlier versions in article_versions).';
COMMENT ON COLUMN article_overview.retracted IS 'True when a news agency canceled or withheld the article.';
COMMENT ON COLUMN article_overview.tagged_at IS
    'When entities and topics were last computed; NULL: not tagged yet (topic_scores is then empty).';
COMMENT ON COLUMN article_overview.topic_scores IS
    'The topics the article matched, as a JSON object topic name → score from 0 to 1 (e.g. {"nato_russia": 0.82}); '
    '{} when it matched none.';
COMMENT ON COLUMN article_overview.best_topic IS 'The matched topic with the highest score; NULL when it matched none.';
COMMENT ON COLUMN article_overview.best_score IS 'Score of best_topic, from 0 to 1; NULL when it matched none.';

COMMENT ON VIEW topic_stories IS
    'One row per topic and story: the stories in which at least one article (not retracted) matched the topic, '
    'with their time span, size, sources, languages and best score.';
COMMENT ON COLUMN topic_stories.topic IS 'Name of the topic.';
COMMENT ON COLUMN topic_stories.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN topic_stories.title IS 'Title of the story (of its representative article, normally the first).';
COMMENT ON COLUMN topic_stories.url IS 'URL of the representative article.';
COMMENT ON COLUMN topic_stories.first_seen_at IS 'Publication (or storage) time of the earliest article of the story.';
COMMENT ON COLUMN topic_stories.last_seen_at IS 'Publication (or storage) time of the latest article of the story.';
COMMENT ON COLUMN topic_stories.first_matched_at IS
    'Publication (or storage) time of the earliest article of the story that matched the topic.';
COMMENT ON COLUMN topic_stories.articles IS 'Number of articles in the story (copies seen in feeds not counted).';
COMMENT ON COLUMN topic_stories.matched_articles IS 'Of which matched the topic (retracted articles not counted).';
COMMENT ON COLUMN topic_stories.best_score IS 'Highest topic score among its matching articles, from 0 to 1.';
COMMENT ON COLUMN topic_stories.best_article_id IS 'The matching article with that score (articles.id; see topic_articles for why).';
COMMENT ON COLUMN topic_stories.sources IS
    'Names of the sources of the story''s current (not retracted) articles, sorted (copies seen in other feeds: see story_overview.sources).';
COMMENT ON COLUMN topic_stories.languages IS 'Languages of the story''s current (not retracted) articles, sorted.';

GRANT SELECT ON article_overview, topic_stories TO newsmon_reader;
