-- 0008: plain-language comments on every table, view and column (shown by psql \d+, by GUI
-- clients and in docs/schema.md, generated with `newsmon schema-docs --output docs/schema.md`),
-- and newsmon_reader, a read-only role for analysts.
--
-- Rule for every later migration: COMMENT ON what it creates (tests/test_schemadoc.py fails on
-- an uncommented table, view or column) and GRANT SELECT to newsmon_reader explicitly on each
-- new table or view analysts may read. There are deliberately no ALTER DEFAULT PRIVILEGES: a
-- new table stays invisible to the reader until its migration grants it.

-- schema_migrations (created by newsmon.migrate itself) ----------------------------------------
COMMENT ON TABLE schema_migrations IS
    'One row per SQL migration file (sql/NNNN_name.sql) applied to this database, written by newsmon migrate.';
COMMENT ON COLUMN schema_migrations.version IS 'The four-digit number of the migration file, e.g. 0008.';
COMMENT ON COLUMN schema_migrations.name IS 'The name part of the migration file, e.g. comments_and_reader_role.';
COMMENT ON COLUMN schema_migrations.checksum IS
    'SHA-256 of the file as applied; newsmon migrate refuses to run if an applied file was edited later.';
COMMENT ON COLUMN schema_migrations.applied_at IS 'When the migration was applied.';

-- sources --------------------------------------------------------------------------------------
COMMENT ON TABLE sources IS
    'One row per news feed (source) listed in config/feeds.yml, with its polling schedule and health. '
    'Loaded from the YAML on every run; a feed removed from the YAML stays here with health = removed.';
COMMENT ON COLUMN sources.id IS 'Internal number of the source.';
COMMENT ON COLUMN sources.name IS 'Short unique name of the source as given in config/feeds.yml (e.g. lemonde-international).';
COMMENT ON COLUMN sources.url IS 'URL of the feed polled.';
COMMENT ON COLUMN sources.kind IS 'Feed format: auto (detected), rss, atom, jsonfeed or newsml.';
COMMENT ON COLUMN sources.language IS
    'Language declared for the feed in config/feeds.yml (ISO 639-1 code such as en, fr); NULL when not declared.';
COMMENT ON COLUMN sources.enabled IS 'False when the feed is switched off in config/feeds.yml (it is then not polled).';
COMMENT ON COLUMN sources.tags IS 'Free labels given to the feed in config/feeds.yml.';
COMMENT ON COLUMN sources.config IS
    'Other settings of the feed from config/feeds.yml as JSON (e.g. fetch_pages: whether article pages are downloaded).';
COMMENT ON COLUMN sources.etag IS 'HTTP ETag of the last feed response, sent back to ask "only if changed".';
COMMENT ON COLUMN sources.last_modified IS 'HTTP Last-Modified of the last feed response, sent back to ask "only if changed".';
COMMENT ON COLUMN sources.health IS
    'Health of the feed: active (working), degraded (some recent failures), failing (keeps failing), '
    'paused (disabled), silent (no new items for unusually long), removed (no longer in config/feeds.yml).';
COMMENT ON COLUMN sources.last_polled_at IS 'When the feed was last requested.';
COMMENT ON COLUMN sources.last_success_at IS 'When the feed was last read successfully.';
COMMENT ON COLUMN sources.last_status IS
    'Outcome of the last poll: ok (items read), not_modified (unchanged since last time), empty (no items), error.';
COMMENT ON COLUMN sources.last_http_status IS 'HTTP status code of the last poll (NULL when no response was received).';
COMMENT ON COLUMN sources.last_error IS 'Message of the last failed poll.';
COMMENT ON COLUMN sources.last_error_at IS 'When the last failed poll happened.';
COMMENT ON COLUMN sources.last_warning IS 'Last non-fatal problem noticed with the feed (e.g. malformed but readable XML).';
COMMENT ON COLUMN sources.consecutive_failures IS 'Number of polls in a row that failed (0 after a success).';
COMMENT ON COLUMN sources.items_last_poll IS 'Number of items the feed contained at the last successful poll.';
COMMENT ON COLUMN sources.created_at IS 'When the source was first loaded.';
COMMENT ON COLUMN sources.updated_at IS 'When the row was last changed.';
COMMENT ON COLUMN sources.next_poll_at IS
    'When the feed is next due: adapted to how often it publishes, and pushed back after failures.';
COMMENT ON COLUMN sources.poll_interval_seconds IS 'Interval between polls chosen at the last poll, in seconds.';
COMMENT ON COLUMN sources.failure_score IS
    'Weighted count of recent consecutive failures (hard errors weigh more than transient ones); drives backoff and health.';
COMMENT ON COLUMN sources.last_error_kind IS
    'Kind of the last failure: hard (e.g. not found, unparsable), soft (transient, e.g. timeout) or policy (refused by our network policy).';
COMMENT ON COLUMN sources.last_new_item_at IS 'When the feed last contained an item not seen before.';
COMMENT ON COLUMN sources.items_per_day IS 'Estimated number of new items the feed publishes per day.';
COMMENT ON COLUMN sources.body_hash IS
    'Hash of the body of the last full (HTTP 200) feed response, used to check that the server''s validators can be trusted.';
COMMENT ON COLUMN sources.polls_since_full IS 'Polls since the last unconditional (full) download of the feed.';
COMMENT ON COLUMN sources.validators_trusted IS
    'False when the server answered "not modified" (or kept its ETag) although the feed had changed: it is then always downloaded in full.';
COMMENT ON COLUMN sources.validators_note IS 'Why the server''s validators are no longer trusted.';
COMMENT ON COLUMN sources.health_changed_at IS 'When health last changed value.';

-- feed_entries ---------------------------------------------------------------------------------
COMMENT ON TABLE feed_entries IS
    'One row per item seen in a feed (per source and item id): the raw feed data and the work queue that '
    'turns items into articles. Several entries may lead to the same article (copies).';
COMMENT ON COLUMN feed_entries.id IS 'Internal number of the feed item.';
COMMENT ON COLUMN feed_entries.source_id IS 'The feed it came from (sources.id).';
COMMENT ON COLUMN feed_entries.guid IS 'The item''s identifier in the feed (guid/id, else its link); unique per source.';
COMMENT ON COLUMN feed_entries.link IS 'Link of the item as given in the feed.';
COMMENT ON COLUMN feed_entries.canonical_url IS 'The link normalized (tracking parameters removed, canonical form) used to find copies.';
COMMENT ON COLUMN feed_entries.title IS 'Title given in the feed.';
COMMENT ON COLUMN feed_entries.summary IS 'Summary or description given in the feed (may contain HTML; empty if none).';
COMMENT ON COLUMN feed_entries.content IS 'Full content given in the feed, if any (may contain HTML; empty if none).';
COMMENT ON COLUMN feed_entries.published_at IS 'Publication time given in the feed (NULL if missing or unreadable).';
COMMENT ON COLUMN feed_entries.author IS 'Author given in the feed.';
COMMENT ON COLUMN feed_entries.language IS 'Language given in the feed for the item, if any.';
COMMENT ON COLUMN feed_entries.tags IS 'Categories given in the feed for the item.';
COMMENT ON COLUMN feed_entries.first_seen_at IS 'When the item was first seen in the feed.';
COMMENT ON COLUMN feed_entries.last_seen_at IS 'When the item was last seen in the feed.';
COMMENT ON COLUMN feed_entries.status IS
    'Processing state: pending (waiting), retry (page download failed transiently, will be tried again), '
    'done (article stored or matched), failed (gave up).';
COMMENT ON COLUMN feed_entries.attempts IS 'Number of processing attempts so far.';
COMMENT ON COLUMN feed_entries.last_error IS 'Message of the last failed attempt.';
COMMENT ON COLUMN feed_entries.processed_at IS 'When the item was last processed.';
COMMENT ON COLUMN feed_entries.article_id IS 'The article this item became or was found to be a copy of (articles.id).';
COMMENT ON COLUMN feed_entries.dedup IS
    'How the item was matched: new (it created the article), url (same canonical URL as an existing article), '
    'exact (same normalized text as an existing article). NULL until processed.';
COMMENT ON COLUMN feed_entries.version IS 'Version number of the item as sent by a news agency (NewsML), if any.';
COMMENT ON COLUMN feed_entries.pub_status IS
    'Publication status sent by a news agency: usable (normal), canceled (retracted), withheld (temporarily withdrawn).';
COMMENT ON COLUMN feed_entries.dateline IS 'Dateline of an agency item (place and date line at the start of the dispatch).';
COMMENT ON COLUMN feed_entries.subjects IS 'Subject codes or labels sent by a news agency.';
COMMENT ON COLUMN feed_entries.keywords IS 'Keywords sent with the item by the publisher.';

-- articles -------------------------------------------------------------------------------------
COMMENT ON TABLE articles IS
    'One row per distinct article (per canonical URL; exact copies of a text are not stored twice), with the '
    'extracted text, its language, its story and its retraction state.';
COMMENT ON COLUMN articles.id IS 'Internal number of the article.';
COMMENT ON COLUMN articles.canonical_url IS 'Normalized URL of the article; unique.';
COMMENT ON COLUMN articles.url IS 'URL of the article as first found (the feed link or the file path for imports).';
COMMENT ON COLUMN articles.source_id IS 'The feed the article came from first (sources.id); NULL for imported files.';
COMMENT ON COLUMN articles.title IS 'Title of the article.';
COMMENT ON COLUMN articles.text IS 'Plain text of the article body (extracted from the page, or else from the feed).';
COMMENT ON COLUMN articles.author IS 'Author, when known.';
COMMENT ON COLUMN articles.language IS 'Language of the text as an ISO 639-1 code (en, fr, ...); und when undetermined.';
COMMENT ON COLUMN articles.language_prob IS 'Confidence of the language detection, from 0 to 1.';
COMMENT ON COLUMN articles.language_method IS
    'How the language was decided: agreed (detected = declared), detected, declared, detected_over_declared, und.';
COMMENT ON COLUMN articles.published_at IS 'Publication time (from the page or the feed); NULL if unknown.';
COMMENT ON COLUMN articles.fetched_at IS 'When the article page was downloaded (NULL if it was not).';
COMMENT ON COLUMN articles.content_hash IS 'Hash of the normalized text, used to spot exact copies; unique when set.';
COMMENT ON COLUMN articles.text_source IS
    'Where the text comes from: page (downloaded article page), feed (the feed''s summary/content), file (imported file).';
COMMENT ON COLUMN articles.extraction_status IS
    'Outcome of text extraction: ok, page_unavailable (download failed), no_article_text (page had no article body), '
    'not_fetched (page not downloaded by configuration), robots_disallowed (robots.txt forbids it), '
    'refused (blocked by our network policy).';
COMMENT ON COLUMN articles.extraction_note IS 'Details on the extraction outcome (e.g. the error when the page was unavailable).';
COMMENT ON COLUMN articles.created_at IS 'When the article was first stored.';
COMMENT ON COLUMN articles.updated_at IS 'When the article row was last changed.';
COMMENT ON COLUMN articles.story_id IS 'The story (group of articles about the same dispatch) it belongs to (stories.id).';
COMMENT ON COLUMN articles.story_join IS
    'How it joined its story: first (started it), near (near-duplicate of a member), update (new text under a known URL).';
COMMENT ON COLUMN articles.story_similarity IS 'Estimated text similarity (0 to 1) to the story member it matched; NULL for first.';
COMMENT ON COLUMN articles.version IS 'Version of the text: 1, then +1 each time the text under this URL changes (older ones in article_versions).';
COMMENT ON COLUMN articles.retracted_at IS 'When a news agency canceled or withheld the article; NULL otherwise.';
COMMENT ON COLUMN articles.pub_status IS 'Publication status: usable (normal), canceled (retracted), withheld (temporarily withdrawn).';
COMMENT ON COLUMN articles.agency_guid IS 'Identifier of the item at the news agency (NewsML), if any.';
COMMENT ON COLUMN articles.agency_version IS 'Latest version number of the agency item stored.';
COMMENT ON COLUMN articles.tagged_hash IS
    'The text fingerprint (content hash, or length) the entity/keyword/topic tags were computed from; tags are redone when it changes.';
COMMENT ON COLUMN articles.tagged_at IS 'When entities, keywords and topics were last computed (NULL: not tagged yet).';

-- pipeline_runs --------------------------------------------------------------------------------
COMMENT ON TABLE pipeline_runs IS
    'One row per pipeline run (Airflow DAG run, or a newsmon ingest/import from the command line) with what it did. '
    'Counts are numbers of items.';
COMMENT ON COLUMN pipeline_runs.id IS 'Internal number of the run.';
COMMENT ON COLUMN pipeline_runs.dag_id IS 'Airflow DAG (or command) that ran.';
COMMENT ON COLUMN pipeline_runs.run_id IS 'Airflow run id (or a generated id for command-line runs); unique per dag_id.';
COMMENT ON COLUMN pipeline_runs.data_interval_start IS 'Start of the Airflow data interval of the run.';
COMMENT ON COLUMN pipeline_runs.data_interval_end IS 'End of the Airflow data interval of the run.';
COMMENT ON COLUMN pipeline_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN pipeline_runs.finished_at IS 'When the run finished (NULL while running).';
COMMENT ON COLUMN pipeline_runs.status IS 'running, success or failed.';
COMMENT ON COLUMN pipeline_runs.feeds_polled IS 'Feeds requested.';
COMMENT ON COLUMN pipeline_runs.feeds_not_modified IS 'Feeds that answered "not modified".';
COMMENT ON COLUMN pipeline_runs.feeds_failed IS 'Feeds whose poll failed.';
COMMENT ON COLUMN pipeline_runs.entries_new IS 'Feed items seen for the first time.';
COMMENT ON COLUMN pipeline_runs.pages_fetched IS 'Article pages downloaded.';
COMMENT ON COLUMN pipeline_runs.fetch_failures IS 'Article page downloads that failed.';
COMMENT ON COLUMN pipeline_runs.articles_new IS 'Articles stored for the first time.';
COMMENT ON COLUMN pipeline_runs.articles_updated IS 'Existing articles whose content was updated.';
COMMENT ON COLUMN pipeline_runs.duplicates IS 'Feed items found to be exact copies (same URL or same text) of stored articles.';
COMMENT ON COLUMN pipeline_runs.details IS 'Further details of the run as JSON (per-stage counts, errors).';
COMMENT ON COLUMN pipeline_runs.stories_new IS 'Stories started.';
COMMENT ON COLUMN pipeline_runs.near_duplicates IS 'Articles that joined an existing story as near-duplicates.';
COMMENT ON COLUMN pipeline_runs.versions_new IS 'New versions of articles (changed text under a known URL).';
COMMENT ON COLUMN pipeline_runs.feeds_skipped IS 'Feeds not polled because they were not due yet (schedule or backoff).';
COMMENT ON COLUMN pipeline_runs.entries_updated IS 'Agency items queued again (new version or retraction).';
COMMENT ON COLUMN pipeline_runs.articles_tagged IS 'Articles whose entities, keywords and topics were computed.';

-- stories and deduplication --------------------------------------------------------------------
COMMENT ON TABLE stories IS
    'One row per story: a group of articles carrying the same dispatch (copies, near-duplicates, rewrites).';
COMMENT ON COLUMN stories.id IS 'Internal number of the story.';
COMMENT ON COLUMN stories.representative_article_id IS 'The article shown for the story (articles.id), normally the first.';
COMMENT ON COLUMN stories.title IS 'Title of the representative article.';
COMMENT ON COLUMN stories.first_seen_at IS 'Publication (or storage) time of the earliest member.';
COMMENT ON COLUMN stories.last_seen_at IS 'Publication (or storage) time of the latest member.';
COMMENT ON COLUMN stories.article_count IS 'Number of distinct articles in the story (copies seen in feeds not counted).';
COMMENT ON COLUMN stories.created_at IS 'When the story was created.';
COMMENT ON COLUMN stories.updated_at IS 'When the story row was last changed.';

COMMENT ON TABLE article_fingerprints IS
    'Internal to deduplication: one MinHash fingerprint per article, used to find near-duplicates.';
COMMENT ON COLUMN article_fingerprints.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_fingerprints.signature IS 'MinHash values of the text''s word shingles (binary, little-endian 32-bit integers).';
COMMENT ON COLUMN article_fingerprints.shingles IS 'Number of distinct word shingles (overlapping word sequences) in the text.';

COMMENT ON TABLE article_bands IS
    'Internal to deduplication: locality-sensitive-hashing index, one row per band key of each fingerprint.';
COMMENT ON COLUMN article_bands.band_key IS 'Hash of one band (slice) of a MinHash signature; articles sharing one are near-duplicate candidates.';
COMMENT ON COLUMN article_bands.article_id IS 'The article (article_fingerprints.article_id).';

COMMENT ON TABLE article_versions IS
    'One row per earlier version of an article whose text changed under the same URL (the current one is in articles).';
COMMENT ON COLUMN article_versions.id IS 'Internal number of the row.';
COMMENT ON COLUMN article_versions.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_versions.version IS 'The version number this row preserves (it was replaced by version + 1).';
COMMENT ON COLUMN article_versions.title IS 'Title of that version.';
COMMENT ON COLUMN article_versions.text IS 'Text of that version.';
COMMENT ON COLUMN article_versions.content_hash IS 'Hash of the normalized text of that version.';
COMMENT ON COLUMN article_versions.published_at IS 'Publication time of that version.';
COMMENT ON COLUMN article_versions.replaced_at IS 'When the version was replaced by the next one.';
COMMENT ON COLUMN article_versions.changes IS
    'What changed, as JSON: title_changed, chars_before, chars_after, similarity (0 to 1) between the texts.';

COMMENT ON VIEW story_overview IS
    'One row per story: size, time span, sources and languages (copies seen in feeds included).';
COMMENT ON COLUMN story_overview.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN story_overview.title IS 'Title of the story.';
COMMENT ON COLUMN story_overview.first_seen_at IS 'Time of the earliest member.';
COMMENT ON COLUMN story_overview.last_seen_at IS 'Time of the latest member.';
COMMENT ON COLUMN story_overview.article_count IS 'Number of distinct articles in the story.';
COMMENT ON COLUMN story_overview.feed_items IS 'Number of feed items that led to members (copies included).';
COMMENT ON COLUMN story_overview.source_count IS 'Number of distinct sources that carried the story.';
COMMENT ON COLUMN story_overview.sources IS 'Names of the sources that carried the story, sorted.';
COMMENT ON COLUMN story_overview.languages IS 'Languages of the members, sorted.';
COMMENT ON COLUMN story_overview.representative_article_id IS 'The article shown for the story.';
COMMENT ON COLUMN story_overview.representative_url IS 'URL of the representative article.';

COMMENT ON VIEW story_members IS 'One row per article of each story, in publication order, with how it joined.';
COMMENT ON COLUMN story_members.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN story_members.position IS 'Rank of the article in the story by publication time (1 = first).';
COMMENT ON COLUMN story_members.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN story_members.seen_at IS 'Publication time, or storage time when unknown.';
COMMENT ON COLUMN story_members.source IS 'Name of the source (NULL for imported files).';
COMMENT ON COLUMN story_members.language IS 'Language of the article (ISO 639-1, und if unknown).';
COMMENT ON COLUMN story_members.title IS 'Title of the article.';
COMMENT ON COLUMN story_members.url IS 'URL of the article.';
COMMENT ON COLUMN story_members.story_join IS 'How it joined: first, near (near-duplicate) or update (new text under a known URL).';
COMMENT ON COLUMN story_members.story_similarity IS 'Estimated similarity (0 to 1) to the member it matched.';
COMMENT ON COLUMN story_members.version IS 'Version of the article text (1 = original).';

COMMENT ON VIEW duplicates_per_source IS 'One row per source: how many of its feed items were new and how many repeated what was already stored.';
COMMENT ON COLUMN duplicates_per_source.source IS 'Name of the source.';
COMMENT ON COLUMN duplicates_per_source.feed_items IS 'Feed items seen from the source.';
COMMENT ON COLUMN duplicates_per_source.new_articles IS 'Items that became a new article.';
COMMENT ON COLUMN duplicates_per_source.same_url IS 'Items whose canonical URL was already stored.';
COMMENT ON COLUMN duplicates_per_source.same_text IS 'Items whose text was an exact copy of a stored article.';
COMMENT ON COLUMN duplicates_per_source.near_duplicates IS 'New articles that joined an existing story (near-duplicate or update).';

-- robots.txt and feed health -------------------------------------------------------------------
COMMENT ON TABLE host_robots IS 'Cache of robots.txt files: one row per web host whose pages were fetched.';
COMMENT ON COLUMN host_robots.host IS 'The host as scheme://host[:port].';
COMMENT ON COLUMN host_robots.status IS 'HTTP status of /robots.txt (NULL when the host could not be reached).';
COMMENT ON COLUMN host_robots.body IS 'Content of robots.txt (empty if none).';
COMMENT ON COLUMN host_robots.fetched_at IS 'When robots.txt was downloaded.';

COMMENT ON VIEW feed_health IS 'One row per source: its health and polling state at a glance (see the sources table for details).';
COMMENT ON COLUMN feed_health.source IS 'Name of the source.';
COMMENT ON COLUMN feed_health.enabled IS 'False when the feed is switched off.';
COMMENT ON COLUMN feed_health.health IS 'active, degraded, failing, paused, silent or removed.';
COMMENT ON COLUMN feed_health.last_status IS 'Outcome of the last poll: ok, not_modified, empty or error.';
COMMENT ON COLUMN feed_health.last_http_status IS 'HTTP status code of the last poll.';
COMMENT ON COLUMN feed_health.last_polled_at IS 'When the feed was last requested.';
COMMENT ON COLUMN feed_health.last_success_at IS 'When the feed was last read successfully.';
COMMENT ON COLUMN feed_health.next_poll_at IS 'When the feed is next due.';
COMMENT ON COLUMN feed_health.poll_interval_seconds IS 'Current interval between polls, in seconds.';
COMMENT ON COLUMN feed_health.consecutive_failures IS 'Polls in a row that failed.';
COMMENT ON COLUMN feed_health.failure_score IS 'Weighted count of recent consecutive failures.';
COMMENT ON COLUMN feed_health.last_error_kind IS 'Kind of the last failure: hard, soft or policy.';
COMMENT ON COLUMN feed_health.last_error IS 'Message of the last failed poll.';
COMMENT ON COLUMN feed_health.last_warning IS 'Last non-fatal problem noticed.';
COMMENT ON COLUMN feed_health.last_new_item_at IS 'When the feed last had a new item.';
COMMENT ON COLUMN feed_health.items_per_day IS 'Estimated new items per day.';
COMMENT ON COLUMN feed_health.items_last_poll IS 'Items in the feed at the last successful poll.';
COMMENT ON COLUMN feed_health.validators_trusted IS 'False when the server''s "not modified" answers proved wrong.';
COMMENT ON COLUMN feed_health.validators_note IS 'Why the validators are not trusted.';

-- entities, keywords, topics -------------------------------------------------------------------
COMMENT ON TABLE entities IS
    'One row per named entity (person, organization, place, event...) known to the tagger: the gazetteer '
    '(config/gazetteer) as loaded at the last tagging run, plus names found only by statistical NER.';
COMMENT ON COLUMN entities.id IS 'Internal number of the entity.';
COMMENT ON COLUMN entities.name IS 'Canonical name; unique.';
COMMENT ON COLUMN entities.type IS 'PER (person), ORG (organization), LOC (place), EVENT or MISC.';
COMMENT ON COLUMN entities.wikidata IS 'Wikidata identifier (Q-number), when known.';
COMMENT ON COLUMN entities.side IS 'Alignment given in the gazetteer: nato, russia or neutral; NULL if none.';
COMMENT ON COLUMN entities.origin IS 'gazetteer (curated list) or ner (found by statistical named-entity recognition only).';
COMMENT ON COLUMN entities.updated_at IS 'When the entity row was last loaded or changed.';

COMMENT ON TABLE entity_aliases IS 'One row per name under which an entity is recognized, per language.';
COMMENT ON COLUMN entity_aliases.entity_id IS 'The entity (entities.id).';
COMMENT ON COLUMN entity_aliases.language IS 'Language the alias applies to (ISO 639-1 code).';
COMMENT ON COLUMN entity_aliases.alias IS 'The name or spelling recognized in texts.';
COMMENT ON COLUMN entity_aliases.strength IS
    'strong (unambiguous, counts alone), weak (ambiguous, counts only with other evidence) or short (abbreviation/acronym).';

COMMENT ON TABLE article_entities IS 'One row per entity named in an article, with how often and where.';
COMMENT ON COLUMN article_entities.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_entities.entity_id IS 'The entity (entities.id).';
COMMENT ON COLUMN article_entities.mentions IS 'Number of times the entity is mentioned in the title and text.';
COMMENT ON COLUMN article_entities.in_title IS 'True when the entity is named in the title.';
COMMENT ON COLUMN article_entities.first_sentence IS 'Number of the first sentence of the text mentioning it (0 = first sentence).';
COMMENT ON COLUMN article_entities.source IS 'Found by gazetteer (curated list) or ner (statistical recognition).';
COMMENT ON COLUMN article_entities.occurrences IS
    'Each mention as JSON: surface (text as written), start/end (character offsets), sentence, in_title, strength.';

COMMENT ON TABLE article_keywords IS 'One row per keyword of an article: key phrases extracted by YAKE and topic terms found.';
COMMENT ON COLUMN article_keywords.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_keywords.kind IS 'phrase (key phrase extracted by YAKE) or term (a topic term found in the text).';
COMMENT ON COLUMN article_keywords.keyword IS 'The keyword or phrase.';
COMMENT ON COLUMN article_keywords.score IS
    'Score of the keyword; for YAKE phrases lower means more relevant, for terms it counts the weight of the matches.';

COMMENT ON TABLE article_topics IS 'One row per topic scored for an article (every configured topic), matched or not.';
COMMENT ON COLUMN article_topics.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN article_topics.topic IS 'Name of the topic (from the topic configuration).';
COMMENT ON COLUMN article_topics.score IS 'Topic score from 0 (unrelated) to 1 (clearly about the topic).';
COMMENT ON COLUMN article_topics.matched IS 'True when the article is considered to be about the topic (score above the threshold and rules met).';
COMMENT ON COLUMN article_topics.why IS 'Why, as JSON: the entities and terms that counted and where they occurred.';

COMMENT ON VIEW topic_articles IS 'One row per (topic, article) where the article matches the topic; retracted articles excluded.';
COMMENT ON COLUMN topic_articles.topic IS 'Name of the topic.';
COMMENT ON COLUMN topic_articles.score IS 'Topic score from 0 to 1.';
COMMENT ON COLUMN topic_articles.article_id IS 'The article (articles.id).';
COMMENT ON COLUMN topic_articles.story_id IS 'Its story (stories.id).';
COMMENT ON COLUMN topic_articles.seen_at IS 'Publication time, or storage time when unknown.';
COMMENT ON COLUMN topic_articles.language IS 'Language of the article.';
COMMENT ON COLUMN topic_articles.source IS 'Name of the source (NULL for imported files).';
COMMENT ON COLUMN topic_articles.title IS 'Title of the article.';
COMMENT ON COLUMN topic_articles.url IS 'URL of the article.';
COMMENT ON COLUMN topic_articles.why IS 'Why it matched, as JSON.';

COMMENT ON VIEW entity_mentions_daily IS 'One row per entity and day: articles, mentions and stories naming it.';
COMMENT ON COLUMN entity_mentions_daily.entity IS 'Name of the entity.';
COMMENT ON COLUMN entity_mentions_daily.type IS 'PER, ORG, LOC, EVENT or MISC.';
COMMENT ON COLUMN entity_mentions_daily.wikidata IS 'Wikidata identifier, when known.';
COMMENT ON COLUMN entity_mentions_daily.day IS 'Day of publication (storage day when unknown), in the database time zone.';
COMMENT ON COLUMN entity_mentions_daily.articles IS 'Articles naming the entity that day.';
COMMENT ON COLUMN entity_mentions_daily.mentions IS 'Total mentions in those articles.';
COMMENT ON COLUMN entity_mentions_daily.stories IS 'Distinct stories among those articles.';

COMMENT ON VIEW entity_cooccurrence IS 'One row per pair of entities named in the same article, with how often.';
COMMENT ON COLUMN entity_cooccurrence.entity_a IS 'Name of the first entity of the pair.';
COMMENT ON COLUMN entity_cooccurrence.entity_b IS 'Name of the second entity of the pair.';
COMMENT ON COLUMN entity_cooccurrence.articles IS 'Articles naming both.';
COMMENT ON COLUMN entity_cooccurrence.stories IS 'Distinct stories among those articles.';
COMMENT ON COLUMN entity_cooccurrence.last_seen IS 'Publication (or storage) time of the latest such article.';

-- alerts ---------------------------------------------------------------------------------------
COMMENT ON TABLE alert_digests IS 'One row per digest message: alerts of a digest rule gathered over one schedule period.';
COMMENT ON COLUMN alert_digests.id IS 'Internal number of the digest.';
COMMENT ON COLUMN alert_digests.rule IS 'Name of the alert rule.';
COMMENT ON COLUMN alert_digests.period_key IS 'The schedule tick the digest closes (ISO time); unique per rule.';
COMMENT ON COLUMN alert_digests.created_at IS 'When the digest was assembled.';
COMMENT ON COLUMN alert_digests.payload IS 'The rendered digest message as JSON.';

COMMENT ON TABLE alerts IS 'One row per alert: a story that matched an alert rule (at most one alert per rule and story).';
COMMENT ON COLUMN alerts.id IS 'Internal number of the alert.';
COMMENT ON COLUMN alerts.rule IS 'Name of the alert rule that matched.';
COMMENT ON COLUMN alerts.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN alerts.article_id IS 'The article that matched (articles.id).';
COMMENT ON COLUMN alerts.mode IS 'immediate (sent at once) or digest (gathered into a periodic digest).';
COMMENT ON COLUMN alerts.score IS 'Score of the match (the topic score, 0 to 1).';
COMMENT ON COLUMN alerts.title IS 'Title of the story at alert time.';
COMMENT ON COLUMN alerts.payload IS 'The rendered message and why it matched, as JSON (no channel addresses).';
COMMENT ON COLUMN alerts.digest_id IS 'The digest it was included in (alert_digests.id); NULL for immediate alerts or not yet digested.';
COMMENT ON COLUMN alerts.created_at IS 'When the alert was raised.';

COMMENT ON TABLE alert_deliveries IS
    'One row per alert (or digest) and notification channel: the delivery state, so each is sent at most once.';
COMMENT ON COLUMN alert_deliveries.id IS 'Internal number of the delivery.';
COMMENT ON COLUMN alert_deliveries.alert_id IS 'The alert delivered (alerts.id); NULL for a digest.';
COMMENT ON COLUMN alert_deliveries.digest_id IS 'The digest delivered (alert_digests.id); NULL for an alert.';
COMMENT ON COLUMN alert_deliveries.channel IS 'Name of the notification channel (its address lives in the configuration, not here).';
COMMENT ON COLUMN alert_deliveries.status IS
    'pending (to send), sending (claimed by a sender), sent, failed (gave up), unknown (sender stopped mid-send; not retried).';
COMMENT ON COLUMN alert_deliveries.attempts IS 'Send attempts so far.';
COMMENT ON COLUMN alert_deliveries.next_attempt_at IS 'Earliest time of the next attempt.';
COMMENT ON COLUMN alert_deliveries.claimed_at IS 'When a sender claimed it.';
COMMENT ON COLUMN alert_deliveries.sent_at IS 'When it was sent.';
COMMENT ON COLUMN alert_deliveries.last_error IS 'Message of the last failed attempt.';

COMMENT ON TABLE ops_notifications IS
    'Last state notified to operators per subject (a feed, the ingest), so a notice is sent once per change of state.';
COMMENT ON COLUMN ops_notifications.key IS 'The subject: source:<name> or ingest:nothing.';
COMMENT ON COLUMN ops_notifications.state IS 'The state last notified (e.g. failing, ok).';
COMMENT ON COLUMN ops_notifications.notified_at IS 'When it was notified.';

COMMENT ON VIEW alert_status IS 'One row per alert and channel: the alert and where its delivery stands (channel NULL if none).';
COMMENT ON COLUMN alert_status.alert_id IS 'The alert (alerts.id).';
COMMENT ON COLUMN alert_status.rule IS 'Name of the alert rule.';
COMMENT ON COLUMN alert_status.mode IS 'immediate or digest.';
COMMENT ON COLUMN alert_status.story_id IS 'The story (stories.id).';
COMMENT ON COLUMN alert_status.title IS 'Title of the story at alert time.';
COMMENT ON COLUMN alert_status.score IS 'Score of the match (0 to 1).';
COMMENT ON COLUMN alert_status.created_at IS 'When the alert was raised.';
COMMENT ON COLUMN alert_status.channel IS 'Notification channel name.';
COMMENT ON COLUMN alert_status.status IS 'Delivery state: pending, sending, sent, failed or unknown.';
COMMENT ON COLUMN alert_status.attempts IS 'Send attempts so far.';
COMMENT ON COLUMN alert_status.next_attempt_at IS 'Earliest time of the next attempt.';
COMMENT ON COLUMN alert_status.sent_at IS 'When it was sent.';
COMMENT ON COLUMN alert_status.last_error IS 'Message of the last failed attempt.';

-- newsmon_reader: read-only access for analysts ------------------------------------------------
-- Roles are cluster-wide: created once (a rerun, another database on the same server, or two
-- migrations racing are fine). It may log in; its password (if any) is set by operations, or the
-- server authenticates it by trust/peer. Grants are per database and made below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'newsmon_reader') THEN
        CREATE ROLE newsmon_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created concurrently by a migration of another database
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO newsmon_reader', current_database());
    -- Before PostgreSQL 15 every role may create objects in schema public; 15+ already revokes it.
    IF current_setting('server_version_num')::integer < 150000 THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO newsmon_reader;
GRANT SELECT ON articles, stories, sources, feed_entries, article_versions, entities, entity_aliases,
                article_entities, article_keywords, article_topics, pipeline_runs
    TO newsmon_reader;
GRANT SELECT ON story_overview, story_members, duplicates_per_source, feed_health, topic_articles,
                entity_mentions_daily, entity_cooccurrence, alert_status
    TO newsmon_reader;
-- Not granted: alerts, alert_digests, alert_deliveries, ops_notifications, host_robots,
-- schema_migrations, article_fingerprints, article_bands (operational or internal tables; the
-- alert_status view shows what analysts need of the alerts).
