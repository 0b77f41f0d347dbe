-- 0016: provenance of imported articles. `newsmon import` stored a page under its canonical
-- URL, which replaced the path of the file it came from: an analyst could not trace a row back
-- to its file. source_file keeps the file's file:// URL; NULL for articles fetched from feeds.
-- A later version of the text from another file moves it to that file.

ALTER TABLE articles ADD COLUMN source_file text;

COMMENT ON COLUMN articles.source_file IS
    'file:// URL of the file an imported article was read from; NULL for fetched articles';
