-- 0014: the tag stage finds its work through an index. It asks for articles never tagged or
-- whose text changed since (tagged_hash no longer matches); only the first half was indexed
-- (articles_untagged_idx), so every tag batch of every shard scanned the whole table. This
-- partial index holds exactly the rows waiting to be tagged, so it stays small.

CREATE INDEX articles_to_tag_idx ON articles (id)
    WHERE tagged_at IS NULL
       OR tagged_hash IS DISTINCT FROM COALESCE(content_hash, 'len:' || length(text)::text);

DROP INDEX articles_untagged_idx;
