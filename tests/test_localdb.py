"""The throwaway PostgreSQL cluster used by `make demo` and the tests where no server runs."""

from __future__ import annotations

import shutil
import uuid

import psycopg2
import pytest

from newsmon.operations.localdb import (
    LOCAL_DIR,
    _bindir,
    create_database,
    start_local_cluster,
    stop_local_cluster,
)


def test_throwaway_cluster_starts_reuses_and_stops() -> None:
    """initdb + pg_ctl from the binaries (as postgres when root); a second call reuses it."""
    try:
        _bindir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    base = LOCAL_DIR / f"test-cluster-{uuid.uuid4().hex[:8]}"
    try:
        url = start_local_cluster(base)
        assert start_local_cluster(base) == url
        db_url = create_database(url, "newsmon")
        with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database(), current_setting('server_encoding')")
            assert cur.fetchone() == ("newsmon", "UTF8")
        stop_local_cluster(base)
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(url, connect_timeout=2)
    finally:
        stop_local_cluster(base)
        shutil.rmtree(base, ignore_errors=True)
