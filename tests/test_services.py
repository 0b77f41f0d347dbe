"""The real Airflow services, natively: ``make up``/``make down``/``make status``, authentication,
the Celery executor against Redis, and the fetch pool that must never make a run hang.

The slow tests start real processes (API server, scheduler, DAG processor, triggerer, Celery
worker) on free loopback ports with their own databases, and always stop them (``finally``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg2
import pytest

from newsmon.operations.services import Deployment, _family, local_parallelism, parse_users

ROOT = Path(__file__).resolve().parents[1]
# The DAG files do not change during a test: parse them once, not every 30 s (2 shared cores).
QUIET_DAG_PROCESSOR = {"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600"}
TEST_ENV_DROP = ("AIRFLOW__CORE__UNIT_TEST_MODE", "AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")


# --- fast checks ---------------------------------------------------------------------------------


def test_local_parallelism_is_sized_to_the_cores() -> None:
    """Two LocalExecutor processes per core, not Airflow's 32 on a 2-core machine."""
    assert local_parallelism(2) == 4
    assert local_parallelism(1) == 2
    assert local_parallelism(64) == 32


def test_users_are_named_with_a_known_role() -> None:
    assert parse_users("alice:admin, bob:viewer") == [("alice", "admin"), ("bob", "viewer")]
    for bad in ("alice", "alice:root", ""):
        with pytest.raises(RuntimeError):
            parse_users(bad)


def test_environment_locks_the_api_down(tmp_path: Path) -> None:
    """Authentication on (named users, generated passwords in a 0600 file, never all-admins), the
    API on 127.0.0.1, secrets generated once and kept."""
    deployment = Deployment(state_dir=tmp_path, users="alice:admin,bob:viewer")
    env = deployment.environment("postgresql://x@127.0.0.1/news", "postgresql+psycopg2://x@127.0.0.1/meta")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "alice:admin,bob:viewer"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    passwords = json.loads(deployment.passwords_file.read_text())
    assert set(passwords) == {"alice", "bob"} and all(len(p) >= 16 for p in passwords.values())
    assert deployment.passwords_file.stat().st_mode & 0o777 == 0o600
    again = deployment.environment("postgresql://x@127.0.0.1/news", "postgresql+psycopg2://x@127.0.0.1/meta")
    assert again["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert json.loads(deployment.passwords_file.read_text()) == passwords


def test_missing_fetch_pool_is_created_by_the_cluster_policy(airflow_db: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """plugins/airflow_local_settings.py is loaded by Airflow as its cluster policy; when the
    scheduler creates a task instance in the configured fetch pool and the pool is missing, the
    hook creates it with NEWSMON_FETCH_POOL_SLOTS slots (the end-to-end run is in the Celery test)."""
    import airflow.settings
    from airflow.models.pool import Pool

    pool = f"newsmon_fetch_{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("NEWSMON_FETCH_POOL", pool)
    monkeypatch.setenv("NEWSMON_FETCH_POOL_SLOTS", "3")
    assert Pool.get_pool(pool) is None
    assert not airflow.settings.task_instance_mutation_hook.is_noop, "the policy was not loaded"
    airflow.settings.task_instance_mutation_hook(SimpleNamespace(pool="some_other_pool"))
    assert Pool.get_pool("some_other_pool") is None, "only newsmon's fetch pool is created"
    airflow.settings.task_instance_mutation_hook(SimpleNamespace(pool=pool))
    created = Pool.get_pool(pool)
    assert created is not None and created.slots == 3
    airflow.settings.task_instance_mutation_hook(SimpleNamespace(pool=pool))  # exists: left alone


# --- helpers for the real-process tests ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis on 127.0.0.1:6379 (dev and CI machines run one); else a private redis-server on a
    free port (installed from Debian when absent and we are root), stopped at the end."""
    if _redis_answers(6379):
        yield "redis://127.0.0.1:6379"
        return
    binary = shutil.which("redis-server")
    if binary is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], capture_output=True, timeout=300)
        binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis on 127.0.0.1:6379 and redis-server cannot be installed")
    port = _free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(50):
            if _redis_answers(port):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


class Api:
    """The REST API of a running deployment, as one of its users."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.base = deployment.api_url
        self.token = deployment.token()

    def call(self, method: str, path: str, body: Any = None, token: str | None = "mine") -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.token if token == 'mine' else token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}/api/v2/{path}", data=data, method=method,
                                         headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"dags/{dag_id}/dagRuns?order_by=-start_date")["dag_runs"]

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.call("GET", f"dags/{dag_id}")
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
            time.sleep(2)
        raise AssertionError(f"{dag_id} was not parsed within {timeout} s")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        self.call("PATCH", f"dags/{dag_id}", {"is_paused": False})
        run = self.call("POST", f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            state = self.call("GET", f"dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}")["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(3)
        tasks = self.call("GET", f"dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}/taskInstances")
        states = [(t["task_id"], t["map_index"], t["state"]) for t in tasks["task_instances"]]
        raise AssertionError(f"{dag_id} {run_id} still {state} after {timeout} s: {states}")


def _error_lines(log_dir: Path) -> list[str]:
    lines = []
    for path in (log_dir / "tasks").rglob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"level":"error"' in line.replace(" ", "") or "[error" in line:
                lines.append(f"{path.name}: {line[:300]}")
    return lines


def _news_counts(url: str) -> tuple[int, int, int]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT url) FROM articles")
        articles, distinct = cur.fetchone()
        cur.execute("SELECT count(*) FROM pipeline_runs WHERE status = 'success'")
        return articles, distinct, cur.fetchone()[0]


@pytest.fixture
def service_env(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """A private state folder, news and metadata databases (dropped at the end) and free ports."""
    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate

    for key in TEST_ENV_DROP:
        monkeypatch.delenv(key, raising=False)
    tag = uuid.uuid4().hex[:8]
    news_db, meta_db = f"newsmon_svc_{tag}", f"newsmon_svc_meta_{tag}"
    news_url = create_database(pg_server, news_db)
    migrate(news_url)
    state = Path(tempfile.mkdtemp(prefix="newsmon-service-"))
    try:
        yield SimpleNamespace(pg_server=pg_server, news_url=news_url, meta_db=meta_db, state=state,
                              api_port=_free_port(), samples_port=_free_port(), tag=tag)
    finally:
        drop_database(pg_server, news_db)
        drop_database(pg_server, meta_db)
        shutil.rmtree(state, ignore_errors=True)


# --- real processes ----------------------------------------------------------------------------


@pytest.mark.slow
def test_make_up_runs_ingest_and_alerts_then_make_down_leaves_nothing(service_env: SimpleNamespace) -> None:
    """`make up DEMO=1` → healthy → a REST call without a token gets 401 → an authenticated trigger
    of news_ingest succeeds with no error line in its task logs → the asset-triggered news_alerts run
    succeeds → `make down` → not one process of the deployment is left."""
    env = {**os.environ, "NEWSMON_SERVICE_DIR": str(service_env.state),
           "NEWSMON_PG_SERVER_URL": service_env.pg_server, "NEWSMON_DATABASE_URL": service_env.news_url,
           "NEWSMON_AIRFLOW_DATABASE": service_env.meta_db, "NEWSMON_API_PORT": str(service_env.api_port),
           "NEWSMON_SAMPLES_PORT": str(service_env.samples_port), "NEWSMON_INGEST_SCHEDULE": "none",
           "NEWSMON_AIRFLOW_USERS": "alice:admin,bob:viewer", "AIRFLOW__CORE__PARALLELISM": "4",
           **QUIET_DAG_PROCESSOR}
    deployment = Deployment(state_dir=service_env.state, api_port=service_env.api_port,
                            users="alice:admin,bob:viewer", demo=True)
    started: dict[str, int] = {}
    try:
        up = subprocess.run(["make", "--no-print-directory", "up", "DEMO=1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=400)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert f"http://127.0.0.1:{service_env.api_port}" in up.stdout and "alice" in up.stdout
        started = deployment.recorded()
        assert set(started) == {"sample-site", "api-server", "scheduler", "dag-processor", "triggerer"}
        status = subprocess.run(["make", "--no-print-directory", "status"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "scheduler healthy" in status.stdout, status.stdout + status.stderr

        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"{deployment.api_url}/api/v2/dags", timeout=30)
        assert denied.value.code == 401
        api = Api(deployment)
        with pytest.raises(urllib.error.HTTPError) as forged:
            api.call("GET", "dags", token="not-a-token")
        assert forged.value.code in (401, 403), "a forged token must be refused"
        viewer = Api(Deployment(state_dir=service_env.state, api_port=service_env.api_port,
                                users="bob:viewer"))
        with pytest.raises(urllib.error.HTTPError) as forbidden:
            viewer.trigger("news_ingest")
        assert forbidden.value.code == 403, "a viewer must not trigger runs"

        api.wait_for_dag("news_ingest")
        api.wait_for_dag("news_alerts")
        run_id = api.trigger("news_ingest", {"force_poll": True})
        assert api.wait_run("news_ingest", run_id) == "success"
        articles, distinct, runs = _news_counts(service_env.news_url)
        assert articles > 10 and articles == distinct and runs == 1
        deadline = time.monotonic() + 180
        alerts: list[dict] = []
        while time.monotonic() < deadline:
            alerts = [r for r in api.runs("news_alerts") if r["run_type"] == "asset_triggered"]
            if alerts and alerts[0]["state"] in ("success", "failed"):
                break
            time.sleep(3)
        assert alerts and alerts[0]["state"] == "success", alerts
        errors = [line for line in _error_lines(deployment.log_dir) if "news_ingest" in line
                  or "dag_id=news_ingest" in line]
        assert errors == [], "error lines in a successful run:\n" + "\n".join(errors[:10])
    finally:
        family = _family(started.values())
        down = subprocess.run(["make", "--no-print-directory", "down"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        if deployment.recorded():  # make down failed: do not leave processes behind
            deployment.down()
    assert down.returncode == 0, down.stdout + down.stderr
    assert deployment.recorded() == {}
    left = [pid for pid in family if Path(f"/proc/{pid}").exists()
            and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[:1]]
    assert left == [], f"processes left after make down: {left}"


def _forget_queue(broker: str, queue: str) -> None:
    """Remove what Celery left in the shared Redis for our queue (bindings, an empty queue)."""
    import redis

    client = redis.Redis.from_url(broker)
    try:
        keys = [key for key in client.scan_iter(match=f"*{queue}*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _task_process(ti_id: str, timeout: float = 60) -> int:
    """The PID of the process running task instance ``ti_id`` (its title is "airflow worker -- <id>")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                if f"airflow worker -- {ti_id}".encode() in title:
                    return int(entry.name)
        time.sleep(0.5)
    raise AssertionError(f"no process runs task instance {ti_id}")


def _task(api: Api, dag_id: str, run_id: str, task_id: str) -> list[dict]:
    found = api.call("GET", f"dags/{dag_id}/dagRuns/{urllib.request.quote(run_id)}/taskInstances"
                            f"?task_id_pattern={task_id}&limit=100")["task_instances"]
    return [t for t in found if t["task_id"] == task_id]


def _wait_task(api: Api, run_id: str, task_id: str, states: set[str], timeout: float = 180,
               where: Any = None) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in _task(api, "news_ingest", run_id, task_id):
            if ti["state"] in states and (where is None or where(ti)):
                return ti
        time.sleep(0.3)
    last = _task(api, "news_ingest", run_id, task_id)
    raise AssertionError(f"{task_id} of {run_id} never reached {states}: {last}")


def _held_poll(api: Api, run_id: str, timeout: float = 120) -> dict:
    """The poll_feed task instance still running once every other poll is done: the one whose
    feed request the gate holds."""
    deadline = time.monotonic() + timeout
    polls: list[dict] = []
    while time.monotonic() < deadline:
        polls = _task(api, "news_ingest", run_id, "poll_feed")
        running = [ti for ti in polls if ti["state"] == "running"]
        if len(polls) == 2 and len(running) == 1 and all(
                ti["state"] == "success" for ti in polls if ti is not running[0]):
            return running[0]
        time.sleep(0.3)
    raise AssertionError(f"no single held poll: {polls}")


def _set_connections(server: str, database: str, allowed: bool) -> None:
    """A database outage (or its end): refuse new connections to ``database`` and cut the open ones."""
    conn = psycopg2.connect(server)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
            if not allowed:
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                            (database,))
    finally:
        conn.close()


@pytest.mark.slow
def test_celery_worker_runs_ingest_survives_kill_and_outage_without_a_pool(
        service_env: SimpleNamespace, sample_site: Any, redis_url: str) -> None:
    """CeleryExecutor, real processes: a scheduler queues news_ingest's tasks on Redis and a real
    `airflow celery worker` runs them (results in the metadata database through psycopg2), on a
    feed of the sample site plus a feed whose requests the test can hold (tests/gateserver.py).
    The configured fetch pool does not exist at start (nobody ran `pools set`): the cluster policy
    creates it, so poll_feed does not sit in `scheduled` forever.

    Run 1: `kill -9` of the poll_feed task while its feed request is held → the task is retried and
    the run succeeds. Run 2: the news database refuses connections while a poll is in flight → the
    poll fails after its retry, finish_run records the run and ends it `failed` on its first try
    (no retry backoff). Run 3 completes; across the three runs every item is loaded exactly once."""
    from tests.gateserver import ARTICLES, GateServer

    database = service_env.news_url.rsplit("/", 1)[1]
    queue = f"newsmon-test-{service_env.tag}"
    pool = f"newsmon_fetch_{service_env.tag}"
    with GateServer() as gate:
        feeds = service_env.state / "feeds.yml"
        feeds.write_text(f"""feeds:
  - name: gate
    url: "{gate.base_url}/feed.xml"
    allow_private: true
    language: en
    tags: [test]
  - name: demo-afp-en
    url: "{sample_site.base_url}/feeds/afp-en.atom"
    allow_private: true
    language: en
    tags: [test]
""")
        deployment = Deployment(
            state_dir=service_env.state, executor="CeleryExecutor",
            components=("api-server", "scheduler", "dag-processor", "celery-worker"),
            api_port=service_env.api_port, server_url=service_env.pg_server, metadata_db=service_env.meta_db,
            news_url=service_env.news_url, fetch_pool=pool, fetch_pool_slots=5, create_pool=False,
            celery_broker=f"{redis_url}/{int(service_env.tag, 16) % 15 + 1}",
            queue=queue,  # a queue of our own: other test runs may share this Redis
            extra_env={"NEWSMON_INGEST_SCHEDULE": "none", "NEWSMON_FEEDS_FILE": str(feeds),
                       "NEWSMON_TASK_RETRIES": "1", "NEWSMON_RETRY_DELAY_SECONDS": "2",
                       "NEWSMON_HOST_MIN_INTERVAL": "0", **QUIET_DAG_PROCESSOR,
                       "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"})
        try:
            deployment.up(timeout=300)
            api = Api(deployment)
            api.wait_for_dag("news_ingest")

            # run 1: kill -9 the task process while it waits for the feed
            gate.close()
            run1 = api.trigger("news_ingest", {"force_poll": True})
            assert gate.wait_for_feed_request(1, 180), "the gate feed was never polled"
            polling = _held_poll(api, run1)
            os.kill(_task_process(polling["id"]), 9)
            gate.open()
            assert api.wait_run("news_ingest", run1) == "success"
            tries = {ti["map_index"]: ti["try_number"] for ti in _task(api, "news_ingest", run1, "poll_feed")}
            assert tries[polling["map_index"]] == 2, tries

            # run 2: database outage while the poll is in flight
            gate.close()
            run2 = api.trigger("news_ingest", {"force_poll": True})
            assert gate.wait_for_feed_request(3, 180)
            _set_connections(service_env.pg_server, database, allowed=False)
            try:
                gate.open()
                _wait_task(api, run2, "poll_feed", {"failed"})
            finally:
                _set_connections(service_env.pg_server, database, allowed=True)
            started = time.monotonic()
            assert api.wait_run("news_ingest", run2, timeout=120) == "failed"
            assert time.monotonic() - started < 60, "the failed run lingered"
            finish = _task(api, "news_ingest", run2, "finish_run")[0]
            assert (finish["state"], finish["try_number"]) == ("failed", 1), finish
            with psycopg2.connect(service_env.news_url) as conn, conn.cursor() as cur:
                cur.execute("SELECT status FROM pipeline_runs WHERE run_id = %s", (run2,))
                assert cur.fetchone() == ("failed",)

            # run 3: completes; nothing lost, nothing doubled
            run3 = api.trigger("news_ingest", {"force_poll": True})
            assert api.wait_run("news_ingest", run3) == "success"
            pools = {p["name"]: p for p in api.call("GET", "pools")["pools"]}
            assert pools.get(pool, {}).get("slots") == 5, pools
            worker_log = (deployment.log_dir / "celery-worker.log").read_text(errors="replace")
            assert "execute_workload" in worker_log or "news_ingest" in worker_log, "the worker ran nothing"
        finally:
            gate.open()
            _set_connections(service_env.pg_server, database, allowed=True)
            deployment.down()
            _forget_queue(deployment.celery_broker, queue)
    with psycopg2.connect(service_env.news_url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT count(*), count(DISTINCT e.link) FROM feed_entries e
                       JOIN sources s ON s.id = e.source_id WHERE s.name = 'gate'""")
        assert cur.fetchone() == (len(ARTICLES), len(ARTICLES))
        cur.execute("SELECT count(*) FROM feed_entries WHERE status IN ('pending', 'retry')")
        assert cur.fetchone() == (0,)
    articles, distinct, runs = _news_counts(service_env.news_url)
    assert articles == distinct and articles > len(ARTICLES) and runs == 2


def test_a_bad_service_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsmon.operations.services import Deployment, ServiceError

    monkeypatch.setenv("NEWSMON_API_PORT", "eighty")
    with pytest.raises(ServiceError, match=r"NEWSMON_API_PORT='eighty': expected a whole number"):
        Deployment.from_env()
    monkeypatch.setenv("NEWSMON_API_PORT", "8080")
    monkeypatch.setenv("NEWSMON_FETCH_POOL_SLOTS", "0")
    with pytest.raises(ServiceError, match="NEWSMON_FETCH_POOL_SLOTS='0': expected a positive number"):
        Deployment.from_env()
