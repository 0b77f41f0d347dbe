"""``make demo``: the whole pipeline on the bundled sample site, through Airflow.

Gets a database (NEWSMON_DATABASE_URL, else the server on 127.0.0.1:5432, else a throwaway
cluster under .local/), applies migrations, serves ``samples/site`` on a fixed loopback port
(so the article URLs, hence their identity, are the same on every run), runs the
``news_ingest`` DAG once with ``airflow dags test`` and prints a summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from newsmon.analysts.reports import print_run_summary
from newsmon.core.config import PROJECT_ROOT
from newsmon.operations.localdb import LOCAL_DIR, create_database, find_server
from newsmon.operations.migrate import migrate
from newsmon.operations.samplesite import SampleSite

DEMO_FEEDS = PROJECT_ROOT / "samples" / "feeds.yml"
DEFAULT_PORT = 8765


def airflow_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a local, self-contained Airflow (SQLite metadata under .local/)."""
    home = LOCAL_DIR / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "NEWSMON_DATABASE_URL": database_url,
    })
    env.update(extra or {})
    return env


def _airflow(args: list[str], env: dict[str, str], log: Path) -> None:
    airflow = Path(sys.executable).parent / "airflow"
    with log.open("ab") as out:
        result = subprocess.run([str(airflow), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise SystemExit(f"'airflow {' '.join(args)}' failed (exit {result.returncode}); last lines of "
                         f"{log}:\n" + "\n".join(tail))


def main() -> int:
    database_url = os.environ.get("NEWSMON_DATABASE_URL")
    if not database_url:
        print("looking for PostgreSQL (127.0.0.1:5432, else a local cluster under .local/) ...", flush=True)
        database_url = create_database(find_server(), "newsmon")
    applied = migrate(database_url)
    print(f"database ready ({len(applied)} migration(s) applied)", flush=True)
    port = int(os.environ.get("NEWSMON_SAMPLES_PORT", DEFAULT_PORT))
    try:
        site = SampleSite(port=port)
    except OSError as exc:
        print(f"cannot serve the sample site on 127.0.0.1:{port}: {exc}; set NEWSMON_SAMPLES_PORT "
              "to a free port (use the same one on every run: it is part of the article URLs)",
              file=sys.stderr)
        return 2
    # the sample site is ours and local: no need to space requests to it by a second
    env = airflow_env(database_url, {"NEWSMON_FEEDS_FILE": str(DEMO_FEEDS),
                                     "NEWSMON_SAMPLES_URL": site.base_url,
                                     "NEWSMON_HOST_MIN_INTERVAL": "0.05"})
    log = LOCAL_DIR / "airflow" / "demo.log"
    with site:
        print(f"serving samples/site at {site.base_url}", flush=True)
        started = time.monotonic()
        _airflow(["db", "migrate"], env, log)
        print("running the news_ingest DAG with 'airflow dags test' (log: .local/airflow/demo.log) ...",
              flush=True)
        # force_poll: a demo rerun polls every feed (and gets 304s) instead of waiting for the
        # feeds' adaptive schedule
        _airflow(["dags", "test", "news_ingest", "--conf", '{"force_poll": true}'], env, log)
        print(f"DAG run finished in {time.monotonic() - started:.1f} s", flush=True)
    print("running the news_alerts DAG (alerts go to the file channel of config/alerts.yml) ...", flush=True)
    before = _alert_lines()
    _airflow(["dags", "test", "news_alerts"], env, log)
    written = _alert_lines() - before
    print()
    print_run_summary(database_url, dag_id="news_ingest")
    print(f"\nAlerts: {written} new message(s) written to {ALERTS_FILE.relative_to(PROJECT_ROOT)} "
          "(one per new NATO–Russia story; a rerun sends none). List them: newsmon alerts list")
    return 0


ALERTS_FILE = LOCAL_DIR / "alerts" / "alerts.jsonl"


def _alert_lines() -> int:
    return len(ALERTS_FILE.read_text(encoding="utf-8").splitlines()) if ALERTS_FILE.exists() else 0


if __name__ == "__main__":
    sys.exit(main())
