"""Shared fixtures: a real PostgreSQL database per session, the sample site and a
fault-injecting HTTP server on 127.0.0.1, and an isolated Airflow home."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# Airflow reads its configuration when first imported: isolate it before any test imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="newsmon-airflow-"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "NEWSMON_RETRY_DELAY_SECONDS": "1",
})
# Airflow puts the DAGs and plugins folders on sys.path; in-process DagBag/dag.test() need the same.
sys.path[:0] = [str(ROOT / "dags"), str(ROOT / "plugins")]
for _key in [k for k in os.environ if k.startswith("NEWSMON_") and k not in ("NEWSMON_RETRY_DELAY_SECONDS",
                                                                             "NEWSMON_PG_SERVER_URL")]:
    del os.environ[_key]  # a developer's own settings must not leak into the tests


@pytest.fixture(scope="session")
def pg_server() -> str:
    """Maintenance URL of a PostgreSQL server (local 5432, else a throwaway cluster)."""
    from newsmon.operations.localdb import find_server

    return find_server()


@pytest.fixture(scope="session")
def database_url(pg_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate

    name = f"newsmon_test_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_server, name)
    migrate(url)
    yield url
    drop_database(pg_server, name)


def empty_database(database_url: str) -> None:
    """Truncate every table but schema_migrations (the schema stays)."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("""SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables
                           WHERE schemaname = 'public' AND tablename <> 'schema_migrations'""")
            tables = cur.fetchone()[0]
            if tables:
                cur.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        conn.close()


@pytest.fixture
def db(database_url: str) -> str:
    """The session database, emptied before the test (schema kept)."""
    empty_database(database_url)
    return database_url


@pytest.fixture(scope="module")
def samples_db(database_url: str, sample_site) -> str:
    """The session database emptied, then the bundled sample site ingested and tagged, once per
    test module (the tests of a module read it and may add to it)."""
    from newsmon.core.config import Settings
    from newsmon.pipeline.tasks import ingest_once

    empty_database(database_url)
    os.environ["NEWSMON_SAMPLES_URL"] = sample_site.base_url
    try:
        ingest_once(Settings(database_url=database_url, feeds_file=str(ROOT / "samples" / "feeds.yml"),
                             host_min_interval=0), force=True)
    finally:
        del os.environ["NEWSMON_SAMPLES_URL"]
    return database_url


@pytest.fixture(scope="session")
def sample_site() -> Iterator[object]:
    """The bundled demo site served on a free loopback port."""
    from newsmon.operations.samplesite import SampleSite

    with SampleSite() as site:
        yield site


@pytest.fixture(scope="session")
def fault_server() -> Iterator[object]:
    """An HTTP server on 127.0.0.1 that misbehaves on purpose (see tests/faultserver.py)."""
    from tests.faultserver import FaultServer

    with FaultServer() as server:
        yield server


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    """../shared/corpus, or skip when this checkout has none (a user's clone)."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present (it exists only on the developers' machines)")
    return corpus


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's own metadata database (SQLite in the isolated AIRFLOW_HOME above)."""
    import subprocess

    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture(scope="session")
def dagbag(airflow_db: None):
    """The DAGs of dags/, parsed as Airflow does."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))
