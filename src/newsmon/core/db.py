"""PostgreSQL edge: connections (psycopg2) and the database URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import psycopg2.extras

psycopg2.extras.register_default_jsonb(globally=True)

Connection = psycopg2.extensions.connection


def connect(dsn: str, *, application_name: str = "newsmon") -> psycopg2.extensions.connection:
    """Open a connection; the URL's password never appears in an error message."""
    try:
        conn = psycopg2.connect(dsn, application_name=application_name, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise psycopg2.OperationalError(
            f"cannot connect to the news database {redact(dsn)}: {str(exc).strip()}") from None
    return conn


@contextlib.contextmanager
def transaction(dsn: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work is committed on success and rolled back on error."""
    conn = connect(dsn)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def redact(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***``."""
    import re

    dsn = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)


def dsn_from_parts(*, host: str | None, port: int | None, login: str | None, password: str | None,
                   database: str | None, options: dict[str, str] | None = None) -> str:
    """A libpq URL from connection fields (an Airflow Connection's host, port, login, ...)."""
    from urllib.parse import quote, urlencode

    auth = ""
    if login:
        auth = quote(login, safe="") + (":" + quote(password, safe="") if password else "") + "@"
    netloc = auth + (host or "localhost") + (f":{port}" if port else "")
    query = ("?" + urlencode(options)) if options else ""
    return f"postgresql://{netloc}/{quote(database or 'newsmon', safe='')}{query}"
