"""Quality and throughput measurements on ``../shared`` (run with ``make eval`` / ``make bench``).

Not part of the installed package: these scripts read material that exists only beside a
developer's checkout, and skip cleanly without it.
"""


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
