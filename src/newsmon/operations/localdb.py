"""Find or start a PostgreSQL server for the demo and the tests.

Order: an explicit URL; else the server on 127.0.0.1:5432 if one answers; else a throwaway
cluster started from the PostgreSQL binaries. Run as a normal user, its data directory is
``.local/pgdata``. Run as root, ``initdb`` refuses root, so the cluster runs as the ``postgres``
user, which often cannot reach the checkout (a clone in a ``0700`` folder, a root home): the
data directory and the server log then live in ``/tmp/newsmon-pg-<hash of the checkout path>``
(owned by ``postgres``, mode 0700), one per checkout. Either way ``.local/pgport`` records the port.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from newsmon.core.config import PROJECT_ROOT

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_DIR = PROJECT_ROOT / ".local"


def server_answers(url: str, timeout: int = 3) -> bool:
    """True when a connection to ``url`` succeeds."""
    try:
        psycopg2.connect(url, connect_timeout=timeout).close()
        return True
    except psycopg2.Error:
        return False


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise RuntimeError("no PostgreSQL server answers on 127.0.0.1:5432 and no PostgreSQL binaries "
                       "(pg_ctl, initdb) were found: install the 'postgresql' package or set "
                       "NEWSMON_DATABASE_URL")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as_owner(args: list[str], owner: str | None) -> None:
    command = ["runuser", "-u", owner, "--", *args] if owner else args
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _owner() -> str | None:
    """The user the cluster runs as: ``postgres`` when we are root (initdb refuses root), else us."""
    return "postgres" if os.geteuid() == 0 else None


def cluster_dir(base: Path = LOCAL_DIR) -> Path:
    """Where the data directory and server log of the cluster for ``base`` live: ``base`` itself
    for a normal user; for root, a per-checkout folder under /tmp that ``postgres`` can reach."""
    if _owner() is None:
        return base
    digest = hashlib.sha1(str(base.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"newsmon-pg-{digest}"


def _prepare_owned_dir(path: Path, owner: str) -> None:
    """Create ``path`` owned by ``owner`` (0700), refusing a symlink or a folder someone else owns
    (/tmp is shared)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    if path.is_symlink() or not path.is_dir():
        raise RuntimeError(f"{path} exists and is not a plain folder: remove it")
    stat = path.lstat()
    import pwd

    uid = pwd.getpwnam(owner).pw_uid
    if stat.st_uid not in (0, uid):
        raise RuntimeError(f"{path} belongs to uid {stat.st_uid}, not {owner}: remove it")
    shutil.chown(path, owner)
    path.chmod(0o700)


def start_local_cluster(base: Path = LOCAL_DIR) -> str:
    """Start (creating if needed) a private cluster for ``base``; return its server URL."""
    bindir = _bindir()
    owner = _owner()
    home = cluster_dir(base)
    data = home / "pgdata"
    port_file = base / "pgport"
    base.mkdir(parents=True, exist_ok=True)
    if owner:
        _prepare_owned_dir(home, owner)
    if port_file.exists():
        url = f"postgresql://postgres@127.0.0.1:{port_file.read_text().strip()}/postgres"
        if server_answers(url):
            return url
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if owner:
            shutil.chown(data, owner)
        _run_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C.UTF-8"], owner)
    port = _free_port()
    log_file = home / "postgres.log"
    if owner and not log_file.exists():
        log_file.touch()
        shutil.chown(log_file, owner)
    _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log_file), "-w", "-t", "60",
                   "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                  owner)
    port_file.write_text(str(port))
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        if server_answers(url):
            return url
        time.sleep(0.2)
    raise RuntimeError(f"started a local PostgreSQL under {data} but it does not answer; see {log_file}")


def stop_local_cluster(base: Path = LOCAL_DIR, *, remove: bool = False) -> None:
    """Stop the private cluster of ``base``, if one runs (``remove``: also delete its files)."""
    home = cluster_dir(base)
    data = home / "pgdata"
    if (data / "postmaster.pid").exists():
        _run_as_owner([str(_bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], _owner())
    if remove:
        shutil.rmtree(data, ignore_errors=True)
        if home != base:
            shutil.rmtree(home, ignore_errors=True)
        (base / "pgport").unlink(missing_ok=True)


def find_server() -> str:
    """A maintenance URL (database ``postgres``) of a server we may create databases on."""
    explicit = os.environ.get("NEWSMON_PG_SERVER_URL")
    if explicit:
        return explicit
    if server_answers(DEFAULT_SERVER):
        return DEFAULT_SERVER
    return start_local_cluster()


def with_database(server_url: str, dbname: str) -> str:
    """``server_url`` pointing at database ``dbname``."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def create_database(server_url: str, dbname: str, *, drop_first: bool = False) -> str:
    """Create ``dbname`` on the server if missing (dropped first with ``drop_first``); return its URL."""
    if drop_first:
        drop_database(server_url, dbname)
    conn = psycopg2.connect(server_url, connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(dbname)))
    finally:
        conn.close()
    return with_database(server_url, dbname)


def drop_database(server_url: str, dbname: str) -> None:
    conn = psycopg2.connect(server_url, connect_timeout=10)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    finally:
        conn.close()
