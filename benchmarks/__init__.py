"""Quality and throughput measurements on ``../shared`` (run with ``make eval`` / ``make bench``).

Not part of the installed package: these scripts read material that exists only beside a
developer's checkout, and skip cleanly without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def scratch_database(prefix: str = "newsmon_bench") -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, migrated, dropped on the way out: its URL."""
    import uuid

    from newsmon.operations.localdb import create_database, drop_database, find_server
    from newsmon.operations.migrate import migrate

    server = find_server()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    dsn = create_database(server, name)
    try:
        migrate(dsn)
        yield dsn
    finally:
        drop_database(server, name)


def server_or_none() -> str | None:
    """The PostgreSQL server a benchmark may create its database on (``newsmon.operations.localdb``), or
    None after saying on stderr why there is none."""
    import sys

    import psycopg2

    from newsmon.operations.localdb import find_server

    try:
        return find_server()
    except (RuntimeError, OSError, psycopg2.Error) as exc:
        print(f"error: the benchmark needs PostgreSQL and none is available: {exc}", file=sys.stderr)
        return None
