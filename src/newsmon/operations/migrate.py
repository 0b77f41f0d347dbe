"""Plain-SQL migrations (dbmate style): numbered files in ``sql/``, applied in order, each in
its own transaction, recorded in ``schema_migrations``. Concurrent runs serialize on an
advisory lock, so two ``newsmon migrate`` at once apply each file exactly once."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from newsmon.core.config import PROJECT_ROOT
from newsmon.core.db import connect
from newsmon.core.errors import MigrationError

log = logging.getLogger(__name__)
SQL_DIR = Path(os.environ.get("NEWSMON_SQL_DIR", PROJECT_ROOT / "sql"))
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x6E6577736D6F6E  # "newsmon"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """All migrations in ``sql_dir``, ordered by version; malformed names are an error."""
    if not sql_dir.is_dir():
        raise MigrationError(f"migrations folder not found: {sql_dir}")
    migrations: list[Migration] = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_snake_case.sql")
        migrations.append(Migration(match.group(1), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{sql_dir}: two migration files share a version number")
    return migrations


def migrate(dsn: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations; return the versions applied (empty when up to date)."""
    migrations = discover(sql_dir)
    conn = connect(dsn, application_name="newsmon-migrate")
    applied_now: list[str] = []
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                cur.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                                   version    text PRIMARY KEY,
                                   name       text NOT NULL,
                                   checksum   text NOT NULL,
                                   applied_at timestamptz NOT NULL DEFAULT now())""")
                cur.execute("SELECT version, checksum FROM schema_migrations")
                done = dict(cur.fetchall())
                known = {m.version for m in migrations}
                unknown = sorted(set(done) - known)
                if unknown:
                    raise MigrationError(f"database has migrations {unknown} that are not in {sql_dir}: "
                                         "is this checkout older than the database?")
                for migration in migrations:
                    if migration.version in done:
                        if done[migration.version] != migration.checksum:
                            raise MigrationError(
                                f"sql/{migration.version}_{migration.name}.sql changed after it was "
                                "applied; write a new migration instead of editing an applied one")
                        continue
                    conn.autocommit = False
                    try:
                        cur.execute(migration.sql)
                        cur.execute("INSERT INTO schema_migrations (version, name, checksum) "
                                    "VALUES (%s, %s, %s)",
                                    (migration.version, migration.name, migration.checksum))
                        conn.commit()
                    except Exception as exc:
                        conn.rollback()
                        raise MigrationError(f"migration {migration.version}_{migration.name} failed "
                                             f"and was rolled back: {exc}".strip()) from exc
                    finally:
                        conn.autocommit = True
                    log.info("applied migration %s_%s", migration.version, migration.name)
                    applied_now.append(migration.version)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.close()
    return applied_now


def status(dsn: str, sql_dir: Path = SQL_DIR) -> list[tuple[str, str, bool]]:
    """(version, name, applied) for every migration file."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            exists = cur.fetchone()[0]
            done = set()
            if exists:
                cur.execute("SELECT version FROM schema_migrations")
                done = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    return [(m.version, m.name, m.version in done) for m in discover(sql_dir)]
