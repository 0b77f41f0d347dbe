-- 0020: headline-only articles. A feed or JSON-Lines item with a title and no body (a wire flash,
-- a headline-only feed) is an article: it loads with an empty text and text_source 'title_only',
-- and is tagged from its title. Without a text it has no content hash and no fingerprint, so
-- distinct headlines are never exact or near duplicates of one another. Its text comes later,
-- from the page or a fuller item under the same URL, as an upgrade.

ALTER TABLE articles DROP CONSTRAINT articles_text_source_check;
ALTER TABLE articles ADD CONSTRAINT articles_text_source_check
    CHECK (text_source IN ('page', 'feed', 'file', 'title_only'));

-- feed items without a body were loaded before with text_source 'feed' and an empty text
UPDATE articles SET text_source = 'title_only'
WHERE text = '' AND text_source <> 'title_only' AND btrim(COALESCE(title, '')) <> '';

COMMENT ON COLUMN articles.text_source IS
    'Where the text comes from: page (downloaded article page), feed (the feed''s summary/content), '
    'file (imported file), title_only (a headline with no body: the text is empty, tags come from the title).';
