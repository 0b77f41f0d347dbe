-- 0009: trends of the pipeline runs, per day and DAG (counts and seconds per stage).

CREATE VIEW pipeline_run_trends AS
SELECT date_trunc('day', started_at)::date AS day,
       dag_id,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'failed') AS failed_runs,
       sum(feeds_polled) AS feeds_polled,
       sum(feeds_failed) AS feeds_failed,
       sum(entries_new) AS entries_new,
       sum(articles_new) AS articles_new,
       sum(duplicates) AS duplicates,
       sum(stories_new) AS stories_new,
       round(avg(extract(epoch FROM finished_at - started_at))::numeric, 1) AS avg_run_seconds,
       round(avg((details -> 'stage_seconds' ->> 'poll')::numeric), 1) AS avg_poll_seconds,
       round(avg((details -> 'stage_seconds' ->> 'process')::numeric), 1) AS avg_process_seconds,
       round(avg((details -> 'stage_seconds' ->> 'tag')::numeric), 1) AS avg_tag_seconds
FROM pipeline_runs
GROUP BY 1, 2;

COMMENT ON VIEW pipeline_run_trends IS 'Pipeline runs per day and DAG: how many, how many failed, what they loaded and how long each stage took on average (from pipeline_runs).';
COMMENT ON COLUMN pipeline_run_trends.day IS 'Day the runs started (UTC).';
COMMENT ON COLUMN pipeline_run_trends.dag_id IS 'The DAG (or newsmon_cli for runs of newsmon ingest).';
COMMENT ON COLUMN pipeline_run_trends.runs IS 'Runs started that day.';
COMMENT ON COLUMN pipeline_run_trends.failed_runs IS 'Of which recorded as failed.';
COMMENT ON COLUMN pipeline_run_trends.feeds_polled IS 'Feeds polled, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.feeds_failed IS 'Feed polls that failed, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.entries_new IS 'New feed items, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.articles_new IS 'New articles stored, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.duplicates IS 'Feed items that were copies of stored articles, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.stories_new IS 'New stories, summed over the runs.';
COMMENT ON COLUMN pipeline_run_trends.avg_run_seconds IS 'Average duration of a finished run, in seconds.';
COMMENT ON COLUMN pipeline_run_trends.avg_poll_seconds IS 'Average seconds spent polling feeds per run (summed over the feeds).';
COMMENT ON COLUMN pipeline_run_trends.avg_process_seconds IS 'Average seconds spent fetching, extracting and loading per run (summed over the batches).';
COMMENT ON COLUMN pipeline_run_trends.avg_tag_seconds IS 'Average seconds spent tagging per run.';

GRANT SELECT ON pipeline_run_trends TO newsmon_reader;
