"""Migrations: applied once, recorded, safe to run concurrently, edits to applied files refused."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import psycopg2
import pytest

from newsmon.core.errors import MigrationError
from newsmon.operations.localdb import create_database, drop_database
from newsmon.operations.migrate import SQL_DIR, discover, migrate, status


@pytest.fixture
def empty_db(pg_server: str):
    name = f"newsmon_mig_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


def test_migration_files_are_numbered_and_ordered() -> None:
    """Every file in sql/ follows NNNN_name.sql and versions are unique and increasing."""
    versions = [m.version for m in discover()]
    assert versions == sorted(versions) and len(versions) == len(set(versions)) and versions


def test_migrate_applies_once_and_records(empty_db: str) -> None:
    """A fresh database gets every migration; a second run applies nothing."""
    first = migrate(empty_db)
    assert first == [m.version for m in discover()]
    assert migrate(empty_db) == []
    assert all(applied for _, _, applied in status(empty_db))
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(first)


def test_concurrent_migrate_applies_each_file_once(empty_db: str) -> None:
    """Four simultaneous runs serialize on the advisory lock: no error, each file applied once."""
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_db))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(len(r) for r in results) == [0, 0, 0, len(discover())]


def test_edited_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    """Changing a file after it was applied is an error that says what to do."""
    for path in SQL_DIR.glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text())
    migrate(empty_db, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(empty_db, tmp_path)


def test_failing_migration_rolls_back(empty_db: str, tmp_path: Path) -> None:
    """A broken migration leaves no partial change and is not recorded."""
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE t_ok (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE t_half (id int); SELECT * FROM missing_table;")
    with pytest.raises(MigrationError, match="0002_broken failed and was rolled back"):
        migrate(empty_db, tmp_path)
    with psycopg2.connect(empty_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('t_ok') IS NOT NULL, to_regclass('t_half') IS NOT NULL")
        assert cur.fetchone() == (True, False)
        cur.execute("SELECT array_agg(version) FROM schema_migrations")
        assert cur.fetchone()[0] == ["0001"]


def test_badly_named_file_is_an_error(tmp_path: Path) -> None:
    """A file that is not NNNN_name.sql is reported, not silently skipped."""
    (tmp_path / "create_tables.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_snake_case\.sql"):
        discover(tmp_path)
