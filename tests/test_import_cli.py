"""``newsmon import`` and the CLI end to end, as a user runs them (subprocesses, real Postgres)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import psycopg2

FRENCH = """date 2026-11-23
L'Otan et Moscou reprennent contact à Vienne
VIENNE, 23 nov 2026 (AFP) - Des diplomates de l'Alliance atlantique et de la Russie se sont retrouvés
lundi à Vienne en marge d'une réunion de l'OSCE, une première depuis plusieurs mois, selon des sources
concordantes. Les échanges ont porté sur la prévention des incidents aériens au-dessus de la Baltique.
"""

ENGLISH = """date 2026-11
Baltic ports report record grain volumes
RIGA, Nov 2026 (AFP) - Ports on the eastern Baltic handled record volumes of grain this autumn, port
authorities said, citing new rail links and a mild season that kept shipping lanes open longer than usual.
"""


def _newsmon(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSMON_DATABASE_URL": db}
    return subprocess.run([sys.executable, "-m", "newsmon", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def _count(db: str, sql: str) -> int:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def test_import_folder_reports_bad_files_and_loads_the_rest(db: str, tmp_path: Path) -> None:
    """Good files load (gzipped too), each bad file is listed with its reason, exit code 1."""
    (tmp_path / "fr.txt").write_text(FRENCH, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "en.txt.gz").write_bytes(gzip.compress(ENGLISH.encode()))
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "baddate.txt").write_text("date 2026-13\nTitle\nSome text that is long enough.\n")
    result = _newsmon("import", str(tmp_path), "--no-progress", db=db)
    assert result.returncode == 1, result.stderr
    assert "5 file(s): 2 new article(s), 0 updated, 0 already stored, 3 rejected" in result.stdout
    assert "empty.txt: empty file" in result.stderr
    assert "photo.txt: binary file" in result.stderr
    assert "baddate.txt: invalid date line" in result.stderr
    assert _count(db, "SELECT count(*) FROM articles WHERE text_source = 'file'") == 2
    assert _count(db, """SELECT count(*) FROM articles WHERE language = 'fr' AND published_at = '2026-11-23'
                         AND title = 'L''Otan et Moscou reprennent contact à Vienne'""") == 1


def test_import_rerun_imports_nothing_twice(db: str, tmp_path: Path) -> None:
    """A second import of the same files, or of a copy elsewhere, adds nothing."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "fr.txt").write_text(FRENCH, encoding="utf-8")
    assert _newsmon("import", str(tmp_path / "a"), "--no-progress", db=db).returncode == 0
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "copy.txt").write_text(FRENCH, encoding="utf-8")
    again = _newsmon("import", str(tmp_path / "a"), str(tmp_path / "b"), "--no-progress", db=db)
    assert again.returncode == 0
    assert "2 file(s): 0 new article(s), 0 updated, 2 already stored, 0 rejected" in again.stdout
    assert _count(db, "SELECT count(*) FROM articles") == 1


def test_import_shows_progress(db: str, tmp_path: Path) -> None:
    """Without --no-progress a progress bar is drawn on stderr."""
    (tmp_path / "fr.txt").write_text(FRENCH, encoding="utf-8")
    result = _newsmon("import", str(tmp_path), db=db)
    assert result.returncode == 0 and "import: 100%" in result.stderr


def test_migrate_cli_and_bad_database_message(db: str) -> None:
    """`newsmon migrate` reports an up-to-date schema; an unreachable database is a clear error."""
    ok = _newsmon("migrate", db=db)
    assert ok.returncode == 0 and "up to date" in ok.stdout
    bad = _newsmon("migrate", db="postgresql://newsmon:secret@127.0.0.1:1/none")
    assert bad.returncode == 3
    assert "cannot connect to the news database" in bad.stderr and "secret" not in bad.stderr


def test_bad_feeds_file_is_a_clear_error(db: str, tmp_path: Path) -> None:
    """`newsmon ingest` with an invalid feeds file names the file, entry and field; exit 2."""
    feeds = tmp_path / "feeds.yml"
    feeds.write_text("feeds:\n  - name: x\n    url: ftp://example.org/feed\n")
    result = _newsmon("ingest", "--feeds", str(feeds), db=db)
    assert result.returncode == 2
    assert f"{feeds}: feeds[0] (name 'x'): field 'url'" in result.stderr


FIXTURES = Path(__file__).parent / "fixtures"


def test_import_sniffs_every_kind_and_reports_bad_lines(db: str, tmp_path: Path) -> None:
    """A drop folder with a saved RSS feed (gzipped, misleading name), a NewsML-G2 item, a
    NewsML 1.2 item, a JSON Feed and JSON Lines with one bad line: kinds come from content, every
    article loads, the bad line is rejected with file:line, and a rerun loads nothing."""
    drop = tmp_path / "drop"
    drop.mkdir()
    rss = (FIXTURES / "feeds" / "rss20_fr_content_encoded.xml").read_bytes()
    (drop / "wire-archive.dat.gz").write_bytes(gzip.compress(rss))
    (drop / "item.xml").write_bytes((FIXTURES / "newsml" / "g2_newsitem_xhtml_fr.xml").read_bytes())
    (drop / "item12.xml").write_bytes((FIXTURES / "newsml" / "newsml12_usable_fr.xml").read_bytes())
    (drop / "feed.json").write_bytes((FIXTURES / "jsonfeed" / "jsonfeed11_fr.json").read_bytes())
    (drop / "lines.jsonl").write_text(
        '{"url": "https://example.org/a", "title": "A", "text": "' + ENGLISH.replace("\n", " ").strip()
        + '", "published": "2026-11-20", "language": "en"}\n'
        "{not json}\n"
        '{"url": "https://example.org/none", "text": ""}\n', encoding="utf-8")  # neither text nor title
    result = _newsmon("import", str(drop), "--no-progress", db=db)
    assert result.returncode == 1, result.stderr
    assert "lines.jsonl:2: invalid JSON" in result.stderr
    assert "lines.jsonl:3: expected an object with a non-empty 'text' or 'title'" in result.stderr
    for kind in ("rss", "newsml-g2", "newsml-1", "jsonfeed", "jsonl"):
        assert kind in result.stdout, (kind, result.stdout)
    loaded = _count(db, "SELECT count(*) FROM articles")
    assert loaded >= 5
    assert _count(db, "SELECT count(*) FROM articles WHERE agency_version IS NOT NULL") == 2
    again = _newsmon("import", str(drop), "--no-progress", db=db)
    assert "0 new article(s)" in again.stdout
    assert _count(db, "SELECT count(*) FROM articles") == loaded


def test_import_backfill_window(db: str, tmp_path: Path) -> None:
    """--since/--until load only the articles published in the window; the rest are counted."""
    (tmp_path / "fr.txt").write_text(FRENCH, encoding="utf-8")  # 2026-11-23
    (tmp_path / "en.txt").write_text(ENGLISH, encoding="utf-8")  # 2026-11 (the 1st)
    result = _newsmon("import", str(tmp_path), "--no-progress", "--since", "2026-11-15", "--until",
                      "2026-12-01", db=db)
    assert result.returncode == 0, result.stderr
    assert "1 new article(s)" in result.stdout and "1 outside --since/--until" in result.stdout
    assert _count(db, "SELECT count(*) FROM articles WHERE language = 'fr'") == 1
    bad = _newsmon("import", str(tmp_path), "--since", "last tuesday", db=db)
    assert bad.returncode == 2 and "--since" in bad.stderr
