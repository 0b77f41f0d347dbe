-- 0003: analyst views over stories.

-- One row per story: size, time span, sources and languages (copies seen in feeds included).
CREATE VIEW story_overview AS
WITH members AS (
    SELECT a.story_id, a.id AS article_id, a.language, a.source_id FROM articles a
    WHERE a.story_id IS NOT NULL
), sightings AS (           -- every feed item that became, or was a copy of, a member
    SELECT m.story_id, e.source_id FROM feed_entries e JOIN members m ON m.article_id = e.article_id
    UNION ALL
    SELECT story_id, source_id FROM members WHERE source_id IS NOT NULL
)
SELECT s.id AS story_id,
       s.title,
       s.first_seen_at,
       s.last_seen_at,
       s.article_count,
       (SELECT count(*) FROM feed_entries e JOIN members m ON m.article_id = e.article_id
         WHERE m.story_id = s.id) AS feed_items,
       (SELECT count(DISTINCT source_id) FROM sightings g WHERE g.story_id = s.id) AS source_count,
       (SELECT array_agg(DISTINCT src.name ORDER BY src.name) FROM sightings g
          JOIN sources src ON src.id = g.source_id WHERE g.story_id = s.id) AS sources,
       (SELECT array_agg(DISTINCT m.language ORDER BY m.language) FROM members m
         WHERE m.story_id = s.id) AS languages,
       s.representative_article_id,
       r.url AS representative_url
FROM stories s LEFT JOIN articles r ON r.id = s.representative_article_id;

-- Members of each story in the order they were published, with how each joined.
CREATE VIEW story_members AS
SELECT a.story_id,
       row_number() OVER (PARTITION BY a.story_id
                          ORDER BY COALESCE(a.published_at, a.created_at), a.id) AS position,
       a.id AS article_id,
       COALESCE(a.published_at, a.created_at) AS seen_at,
       src.name AS source,
       a.language,
       a.title,
       a.url,
       a.story_join,
       a.story_similarity,
       a.version
FROM articles a LEFT JOIN sources src ON src.id = a.source_id
WHERE a.story_id IS NOT NULL;

-- How much each source repeats what the pipeline already had.
CREATE VIEW duplicates_per_source AS
SELECT src.name AS source,
       count(e.id) AS feed_items,
       count(*) FILTER (WHERE e.dedup = 'new') AS new_articles,
       count(*) FILTER (WHERE e.dedup = 'url') AS same_url,
       count(*) FILTER (WHERE e.dedup = 'exact') AS same_text,
       count(*) FILTER (WHERE e.dedup = 'new' AND a.story_join IN ('near', 'update')) AS near_duplicates
FROM sources src
LEFT JOIN feed_entries e ON e.source_id = src.id
LEFT JOIN articles a ON a.id = e.article_id
GROUP BY src.name;
