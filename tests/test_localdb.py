"""The throwaway PostgreSQL cluster used by `make demo` and the tests where no server runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

from newsmon.operations.localdb import (
    LOCAL_DIR,
    _bindir,
    cluster_dir,
    create_database,
    start_local_cluster,
    stop_local_cluster,
)

ROOT = Path(__file__).resolve().parents[1]


def _need_binaries() -> None:
    try:
        _bindir()
    except RuntimeError as exc:
        pytest.skip(str(exc))


def test_throwaway_cluster_starts_reuses_and_stops() -> None:
    """initdb + pg_ctl from the binaries (as postgres when root); a second call reuses it."""
    _need_binaries()
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
        stop_local_cluster(base, remove=True)
        shutil.rmtree(base, ignore_errors=True)
    assert not (cluster_dir(base) / "pgdata").exists()


_IN_CLONE = """
import sys
from newsmon.core.config import PROJECT_ROOT
from newsmon.operations.localdb import LOCAL_DIR, cluster_dir, start_local_cluster, stop_local_cluster
import psycopg2
assert str(PROJECT_ROOT) == sys.argv[1], (PROJECT_ROOT, sys.argv[1])
try:
    url = start_local_cluster()
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    print(cluster_dir())
finally:
    stop_local_cluster(remove=True)
"""


def test_throwaway_cluster_from_a_private_clone() -> None:
    """A checkout in a 0700 folder (a `mktemp -d`, a root home): the cluster still starts, since its
    files live where the server's user can reach them. The checkout is this working tree's code
    (src/ copied, so uncommitted changes count) under a fresh ``mktemp -d`` folder."""
    _need_binaries()
    private = Path(tempfile.mkdtemp(prefix="newsmon-clone-"))
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        clone = private / "newsmon"
        shutil.copytree(ROOT / "src", clone / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        env = {**os.environ, "PYTHONPATH": str(clone / "src")}
        result = subprocess.run([sys.executable, "-c", _IN_CLONE, str(clone)], cwd=clone, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        home = Path(result.stdout.strip().splitlines()[-1])
        assert not (home / "pgdata").exists(), "stop_local_cluster(remove=True) left the data behind"
        if os.geteuid() == 0:
            assert not home.is_relative_to(private), "root's cluster must live where postgres can reach it"
    finally:
        shutil.rmtree(private, ignore_errors=True)
