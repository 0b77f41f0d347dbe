"""``newsmon import --workers N``: the same report and the same database state as one worker,
and every imported article traceable to its file (real PostgreSQL, the CLI as a user runs it)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import psycopg2
import pytest

from tests.conftest import empty_database

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ("articles", "stories", "article_fingerprints", "article_bands", "article_versions")

SUBJECTS = ["the harbour authority", "the regional parliament", "the national rail operator",
            "the city council", "the grain exporters' union", "the coast guard", "the air traffic agency",
            "the energy regulator", "the water utility", "the teachers' union", "the port of Gdańsk",
            "the border guard"]


def _story(number: int) -> str:
    subject = SUBJECTS[number % len(SUBJECTS)]
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    sentences = [f"Officials of {subject} said on day {number} that plan {words[number % 9]}-{number} "
                 f"would be reviewed before the winter session, after complaints number {number * 7}.",
                 f"The review of case {number} covers {number + 3} districts and {number * 11} contracts "
                 f"signed since {2000 + number}, according to documents seen by reporters.",
                 f"A spokesperson for {subject} declined to comment on report {number} on Tuesday, "
                 f"while opposition members asked for hearing {number * 13} to be held in public.",
                 f"Independent auditors are expected to publish findings on item {number} by spring, "
                 f"and {number + 20} staff members have been asked to testify."]
    return " ".join(sentences)


def _page(title: str, body: str, canonical: str | None, date: str) -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in body.split(". ") if sentence)
    return (f'<!doctype html><html lang="en"><head><title>{title}</title>{link}'
            f'<meta property="article:published_time" content="{date}"></head><body>'
            f'<nav><a href="/">Home</a> <a href="/news">News</a></nav><article><h1>{title}</h1>'
            f"{paragraphs}</article><footer>Copyright the publisher</footer></body></html>")


def _drop_folder(root: Path) -> Path:
    """About forty files whose outcome depends on load order: pages, their copies with a
    sentence added (near duplicates, same canonical URL or none), exact copies under other
    names, text dumps, a saved feed, JSON Lines with a bad line, and bad files."""
    drop = root / "drop"
    (drop / "pages").mkdir(parents=True)
    (drop / "dumps").mkdir()
    for number in range(12):
        body = _story(number)
        canonical = f"https://news.example.org/2026/story-{number}" if number % 3 else None
        date = f"2026-11-{number + 1:02d}T08:00:00+00:00"
        page = _page(f"Story {number} for {SUBJECTS[number]}", body, canonical, date)
        (drop / "pages" / f"story-{number:02d}.html").write_text(page, encoding="utf-8")
        if number % 2 == 0:
            added = f"Update: more was said on day {number}. "
            copy = _page(f"Story {number}", added + body, canonical, date)
            (drop / "pages" / f"story-{number:02d}-copy.html").write_text(copy, encoding="utf-8")
        if number % 4 == 1:
            (drop / "pages" / f"story-{number:02d}-mirror.html.gz").write_bytes(gzip.compress(page.encode()))
    for number in range(12, 18):
        dump = f"date 2026-10-{number:02d}\nDump {number}\n{_story(number)}\n"
        (drop / "dumps" / f"dump-{number}.txt").write_text(dump, encoding="utf-8")
    (drop / "dumps" / "dump-12-again.txt").write_text(f"date 2026-10-12\nDump twelve\n{_story(12)}\n",
                                                      encoding="utf-8")
    (drop / "feed.xml").write_bytes((FIXTURES / "feeds" / "rss20_fr_content_encoded.xml").read_bytes())
    # every item dated: a story's time span then does not depend on the clock
    (drop / "lines.jsonl").write_text(
        '{"url": "https://example.org/j1", "title": "J1", "text": "' + _story(30)
        + '", "language": "en", "published": "2026-11-20"}\n'
        "{broken\n"
        '{"url": "https://example.org/j2", "title": "J2", "text": "' + _story(3)
        + '", "published": "2026-11-21"}\n', encoding="utf-8")
    (drop / "empty.txt").write_text("")
    (drop / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (drop / "nav-only.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    return drop


def _newsmon(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSMON_DATABASE_URL": db}
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def _state(db: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables an import writes, without the columns stamped with the clock."""
    state: dict[str, list[tuple[object, ...]]] = {}
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute("""SELECT column_name FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = %s
                             AND coalesce(column_default, '') NOT LIKE '%%now()%%'
                           ORDER BY ordinal_position""", (table,))
            columns = ", ".join(f'"{name}"' for (name,) in cur.fetchall())
            cur.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}")
            state[table] = cur.fetchall()
    return state


@pytest.mark.parametrize("workers", ["2", "3"])
def test_workers_give_the_same_report_and_database_as_one(db: str, tmp_path: Path, workers: str) -> None:
    """One worker, then N workers into the emptied database: the same summary table, the same
    rejected files and lines in the same order, the same rows (ids, stories, fingerprints,
    versions); and the rerun with N workers adds no article."""
    drop = _drop_folder(tmp_path)
    one = _newsmon("import", str(drop), "--no-progress", "--workers", "1", db=db)
    assert one.returncode == 1, one.stderr  # the bad files
    assert "rejected" in one.stderr and "lines.jsonl:2: invalid JSON" in one.stderr
    expected = _state(db)
    assert len(expected["articles"]) >= 15 and expected["stories"]
    assert len(expected["articles"]) < len(list(drop.rglob("*")))  # duplicates were recognised
    empty_database(db)
    many = _newsmon("import", str(drop), "--no-progress", "--workers", workers, db=db)
    assert many.returncode == one.returncode
    assert many.stdout == one.stdout
    assert many.stderr == one.stderr
    assert _state(db) == expected
    again = _newsmon("import", str(drop), "--no-progress", "--workers", workers, db=db)
    assert " 0 new article(s)" in again.stdout
    assert len(_state(db)["articles"]) == len(expected["articles"])


def test_workers_option_is_validated_and_progress_is_drawn(db: str, tmp_path: Path) -> None:
    """--workers must be a whole number >= 1; with several workers the bar still reaches 100%."""
    bad = _newsmon("import", str(tmp_path), "--workers", "0", db=db)
    assert bad.returncode == 2 and "--workers" in bad.stderr and "at least 1" in bad.stderr
    drop = _drop_folder(tmp_path)
    shown = _newsmon("import", str(drop), "--workers", "2", db=db)
    assert "import: 100%" in shown.stderr and "kind" in shown.stdout


def test_every_imported_article_names_its_file(db: str, tmp_path: Path) -> None:
    """Provenance: each article from a file keeps that file's file:// URL in source_file, also
    when its canonical URL comes from the page; a page of the drop folder can be traced back."""
    drop = _drop_folder(tmp_path)
    result = _newsmon("import", str(drop), "--no-progress", db=db)
    assert "new article(s)" in result.stdout
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT canonical_url, source_file FROM articles")
        rows = cur.fetchall()
    assert rows and all(source and source.startswith("file://") for _, source in rows)
    for _, source in rows:
        assert Path(unquote(urlparse(source).path)).is_file()
    by_url = dict(rows)
    assert by_url["https://news.example.org/2026/story-7"] == \
        (drop / "pages" / "story-07.html").resolve().as_uri()
    assert any(source.endswith("/feed.xml") for _, source in rows)
    assert any(source.endswith("/lines.jsonl") for _, source in rows)


def test_a_failing_load_is_reported_as_before(tmp_path: Path) -> None:
    """Loads run on a background thread: a database that cannot be reached still ends the
    command with the database error and exit code 3, not a traceback or a hang."""
    (tmp_path / "a.txt").write_text("date 2026-11-23\nA title\n" + _story(1) + "\n", encoding="utf-8")
    result = _newsmon("import", str(tmp_path), "--no-progress", "--workers", "2",
                      db="postgresql://postgres@127.0.0.1:1/none")
    assert result.returncode == 3, result.stderr
    assert "newsmon: database error: cannot connect" in result.stderr
    assert "Traceback" not in result.stderr


def test_workers_in_a_process_running_other_threads(db: str, tmp_path: Path) -> None:
    """Forking a process that runs other threads can hang a worker on a lock copied mid-use: in such
    a process (a test run, an application embedding newsmon) the workers start from a fresh server,
    and the result is the same as with one worker."""
    import threading

    from newsmon.core.config import Settings
    from newsmon.pipeline.importer import import_paths

    drop = _drop_folder(tmp_path)
    settings = Settings(database_url=db)
    one = import_paths(settings, [drop], progress=False, workers=1)
    expected = _state(db)
    empty_database(db)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    try:
        many = import_paths(settings, [drop], progress=False, workers=2)
    finally:
        stop.set()
    counts = (lambda r: (r.articles_new, r.duplicates, r.rejected))  # noqa: E731
    assert counts(many) == counts(one)
    assert _state(db) == expected
