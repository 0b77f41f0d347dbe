"""``make up`` / ``make down`` / ``make status``: the real Airflow services, natively from .venv.

``up`` finds PostgreSQL as the demo does (NEWSMON_PG_SERVER_URL, else 127.0.0.1:5432, else the
throwaway cluster), creates the news database ``newsmon`` (migrated) and Airflow's metadata database
``newsmon_airflow``, generates the secrets and the users' passwords once (kept under
``.local/service/``, mode 0600), creates the fetch pool, then starts the API server, scheduler, DAG
processor and triggerer (and, with ``--demo``, the sample site, polled instead of
``config/feeds.yml``), each in its own session with its PID recorded, waits until the API reports
every component healthy and prints the address and how to log in.

``down`` stops exactly the processes ``up`` started: those whose PID file it wrote (checked against
their start time, so a reused PID is left alone), with every process of their sessions and their
descendants; SIGTERM, then SIGKILL after a grace period. ``status`` shows each process and the
API's health report.

Authentication is always on (Airflow's simple auth manager with named users, never its all-admins
mode) and the API listens on 127.0.0.1 unless NEWSMON_API_HOST says otherwise.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from newsmon.core.config import PROJECT_ROOT
from newsmon.operations.localdb import LOCAL_DIR, create_database, find_server

SERVICE_DIR = LOCAL_DIR / "service"
METADATA_DB = "newsmon_airflow"
NEWS_DB = "newsmon"
DEFAULT_USERS = "admin:admin"
FETCH_POOL = "newsmon_fetch"
DEFAULT_API_PORT = 8080
DEFAULT_SAMPLES_PORT = 8765
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}


class ServiceError(RuntimeError):
    """A service could not be started or did not become healthy (the message says where to look)."""


def local_parallelism(cores: int | None = None) -> int:
    """LocalExecutor worker processes for this machine: two per core (tasks mostly wait on the
    network and the database), at least 2, at most Airflow's default of 32."""
    cores = cores or os.cpu_count() or 1
    return max(2, min(32, 2 * cores))


def _airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _newsmon_bin() -> str:
    return str(Path(sys.executable).parent / "newsmon")


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive integer setting; a bad value is an error that names the variable."""
    raw = env.get(name) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ServiceError(f"{name}={raw!r}: expected a whole number") from None
    if value < 1:
        raise ServiceError(f"{name}={raw!r}: expected a positive number")
    return value


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(0o600)


def _load_or_create(path: Path, make: dict[str, str]) -> dict[str, str]:
    """The JSON mapping in ``path``, completed with ``make``'s keys it lacks (written back, 0600)."""
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = {key: value for key, value in make.items() if key not in current}
    if missing or not path.exists():
        current.update(missing)
        _write_private(path, json.dumps(current, indent=1) + "\n")
    return current


def parse_users(spec: str) -> list[tuple[str, str]]:
    """``"alice:admin,bob:viewer"`` as [(user, role)]; roles are the simple auth manager's."""
    users = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, role = item.partition(":")
        if not name or role not in ("viewer", "user", "op", "admin"):
            raise ServiceError(f"NEWSMON_AIRFLOW_USERS: {item!r} is not user:role with role one of "
                               "viewer, user, op, admin")
        users.append((name, role))
    if not users:
        raise ServiceError("NEWSMON_AIRFLOW_USERS names no user")
    return users


@dataclass
class Deployment:
    """Where one native deployment keeps its state, and how it is configured."""

    state_dir: Path = SERVICE_DIR
    executor: str = "LocalExecutor"
    components: tuple[str, ...] = COMPONENTS
    demo: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    samples_port: int = DEFAULT_SAMPLES_PORT
    users: str = DEFAULT_USERS
    fetch_pool: str | None = FETCH_POOL
    fetch_pool_slots: int = 8
    create_pool: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    server_url: str | None = None
    news_db: str = NEWS_DB
    metadata_db: str = METADATA_DB
    celery_broker: str = "redis://127.0.0.1:6379/0"
    queue: str | None = None  # Celery: the queue tasks go to and the worker reads (default: Airflow's)
    news_url: str | None = None

    @classmethod
    def from_env(cls, demo: bool = False) -> Deployment:
        env = os.environ
        return cls(demo=demo,
                   state_dir=Path(env.get("NEWSMON_SERVICE_DIR") or SERVICE_DIR),
                   metadata_db=env.get("NEWSMON_AIRFLOW_DATABASE") or METADATA_DB,
                   api_host=env.get("NEWSMON_API_HOST") or "127.0.0.1",
                   api_port=_env_int(env, "NEWSMON_API_PORT", DEFAULT_API_PORT),
                   samples_port=_env_int(env, "NEWSMON_SAMPLES_PORT", DEFAULT_SAMPLES_PORT),
                   users=env.get("NEWSMON_AIRFLOW_USERS") or DEFAULT_USERS,
                   fetch_pool_slots=_env_int(env, "NEWSMON_FETCH_POOL_SLOTS", 8))

    # --- files --------------------------------------------------------------------------------

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def passwords_file(self) -> Path:
        return self.state_dir / "passwords.json"

    @property
    def api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::", "") else self.api_host
        return f"http://{host}:{self.api_port}"

    def passwords(self) -> dict[str, str]:
        """Each user's password, generated on first use and kept in ``passwords.json`` (0600)."""
        return _load_or_create(self.passwords_file,
                               {name: secrets.token_urlsafe(12) for name, _ in parse_users(self.users)})

    def _secrets(self) -> dict[str, str]:
        return _load_or_create(self.state_dir / "secrets.json", {
            "jwt_secret": secrets.token_urlsafe(32),
            "api_secret_key": secrets.token_urlsafe(32),
            "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        })

    # --- environment --------------------------------------------------------------------------

    def databases(self) -> tuple[str, str]:
        """(news database URL, Airflow metadata URL), creating the databases when missing."""
        server = self.server_url or find_server()
        news = (self.news_url or os.environ.get("NEWSMON_DATABASE_URL")
                or create_database(server, self.news_db))
        meta = create_database(server, self.metadata_db)
        return news, meta.replace("postgresql://", "postgresql+psycopg2://", 1)

    def environment(self, news_url: str, meta_url: str) -> dict[str, str]:
        """The environment every process of the deployment runs with."""
        keys = self._secrets()
        self.passwords()
        env = dict(os.environ)
        env.update({
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM") or str(local_parallelism()),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.log_dir / "tasks"),
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}"
                                                                 for u, r in parse_users(self.users)),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
            "AIRFLOW__API__HOST": self.api_host,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__CELERY__BROKER_URL": self.celery_broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url,
            "AIRFLOW_CONN_NEWSMON_DB": news_url,
            "NEWSMON_DATABASE_URL": news_url,
        })
        if self.fetch_pool:
            env["NEWSMON_FETCH_POOL"] = self.fetch_pool
            env["NEWSMON_FETCH_POOL_SLOTS"] = str(self.fetch_pool_slots)
        else:
            env.pop("NEWSMON_FETCH_POOL", None)
        if self.queue:
            env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] = self.queue
        if self.demo:
            env.update({"NEWSMON_FEEDS_FILE": str(PROJECT_ROOT / "samples" / "feeds.yml"),
                        "NEWSMON_SAMPLES_URL": f"http://127.0.0.1:{self.samples_port}",
                        "NEWSMON_HOST_MIN_INTERVAL": "0.05"})
        env.update(self.extra_env)
        return env

    # --- processes ----------------------------------------------------------------------------

    def commands(self) -> dict[str, list[str]]:
        airflow = _airflow_bin()
        commands = {
            "api-server": [airflow, "api-server", "--host", self.api_host, "--port", str(self.api_port),
                           "--workers", "1"],
            "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
            "dag-processor": [airflow, "dag-processor"],
            "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
            "celery-worker": [airflow, "celery", "worker", "--skip-serve-logs", "--concurrency",
                              str(local_parallelism()), *(["--queues", self.queue] if self.queue else [])],
        }
        chosen = {name: commands[name] for name in self.components}
        if self.demo:
            chosen = {"sample-site": [_newsmon_bin(), "serve-samples", "--port", str(self.samples_port)],
                      **chosen}
        return chosen

    def _pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def recorded(self) -> dict[str, int]:
        """The processes this deployment started and that still run ({name: pid})."""
        alive = {}
        for path in sorted(self.run_dir.glob("*.pid")) if self.run_dir.is_dir() else []:
            try:
                pid, started = (int(x) for x in path.read_text().split())
            except ValueError:
                continue
            if _start_time(pid) == started:
                alive[path.stem] = pid
        return alive

    def start_process(self, name: str, command: list[str], env: Mapping[str, str]) -> int:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(command, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT, start_new_session=True)
        started = _start_time(process.pid)
        self._pid_file(name).write_text(f"{process.pid} {started}\n")
        return process.pid

    def airflow_cli(self, args: list[str], env: Mapping[str, str], timeout: int = 600) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / "setup.log"
        with log.open("ab") as out:
            out.write(f"\n$ airflow {' '.join(args)}\n".encode())
            out.flush()
            result = subprocess.run([_airflow_bin(), *args], env=dict(env), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout,
                                    cwd=PROJECT_ROOT)
        if result.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise ServiceError(f"'airflow {' '.join(args)}' failed (exit {result.returncode}); "
                               f"last lines of {log}:\n{tail}")

    def health(self, timeout: float = 5) -> dict:
        """The API server's health report (no login needed), or {} when it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=timeout) as response:
                return json.loads(response.read())
        except (OSError, ValueError):
            return {}

    def healthy(self, report: dict | None = None) -> bool:
        report = self.health() if report is None else report
        if report.get("metadatabase", {}).get("status") != "healthy":
            return False
        return all((report.get(key) or {}).get("status") == "healthy"
                   for name, key in HEALTH_KEYS.items() if name in self.components)

    def up(self, timeout: float = 300, out: object = None) -> dict[str, int]:
        """Prepare the databases and start every component; return {name: pid} once healthy."""
        say = _printer(out)
        running = self.recorded()
        if running:
            raise ServiceError(f"already running ({', '.join(sorted(running))}): `make status`, or "
                               "`make down` first")
        _check_port_free(self.api_port, "NEWSMON_API_PORT")
        if self.demo:
            _check_port_free(self.samples_port, "NEWSMON_SAMPLES_PORT")
        say("preparing the databases (news: newsmon, Airflow metadata: newsmon_airflow) ...")
        news_url, meta_url = self.databases()
        from newsmon.operations.migrate import migrate

        migrate(news_url)
        env = self.environment(news_url, meta_url)
        say(f"airflow db migrate (log: {self.log_dir / 'setup.log'}) ...")
        self.airflow_cli(["db", "migrate"], env)
        if self.fetch_pool and self.create_pool:
            self.airflow_cli(["pools", "set", self.fetch_pool, str(self.fetch_pool_slots),
                              "newsmon: concurrent feed polls and page-fetching batches"], env)
        for line in ops_warnings(env):
            say(line)
        started = {}
        try:
            for name, command in self.commands().items():
                started[name] = self.start_process(name, command, env)
            say(f"started {', '.join(started)}; waiting for them to report healthy ...")
            deadline = time.monotonic() + timeout
            while not self.healthy():
                dead = [name for name, pid in started.items() if name not in self.recorded()]
                if dead:
                    raise ServiceError(f"{', '.join(dead)} exited at start: see "
                                       + ", ".join(str(self.log_dir / f"{n}.log") for n in dead))
                if time.monotonic() > deadline:
                    raise ServiceError(f"not healthy after {timeout:.0f} s: {self.health() or 'no answer'}; "
                                       f"logs in {self.log_dir}")
                time.sleep(2)
        except BaseException:
            self.down()
            raise
        say(f"Airflow is up: {self.api_url}  (API: {self.api_url}/api/v2)")
        names = ", ".join(u for u, _ in parse_users(self.users))
        say(f"log in as {names}; passwords in {self.passwords_file}")
        feeds = "the sample site (samples/feeds.yml)" if self.demo else env.get(
            "NEWSMON_FEEDS_FILE", "config/feeds.yml")
        say(f"polling {feeds}; logs in {self.log_dir}; stop with `make down`")
        return started

    def down(self, grace: float = 30) -> list[str]:
        """Stop what ``up`` started (and everything in their sessions); return the names stopped."""
        running = self.recorded()
        pids = set(running.values())
        targets = _family(pids)
        _signal(targets, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            targets = {pid for pid in targets | _family(pids) if _alive(pid)}
            if not targets:
                break
            time.sleep(0.5)
        _signal({pid for pid in targets | _family(pids) if _alive(pid)}, signal.SIGKILL)
        for path in self.run_dir.glob("*.pid") if self.run_dir.is_dir() else []:
            path.unlink(missing_ok=True)
        return sorted(running)

    def token(self, user: str | None = None) -> str:
        """A JWT for the REST API, as ``user`` (default: the first configured user)."""
        user = user or parse_users(self.users)[0][0]
        body = json.dumps({"username": user, "password": self.passwords()[user]}).encode()
        request = urllib.request.Request(f"{self.api_url}/auth/token", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]


def ops_warnings(env: Mapping[str, str]) -> list[str]:
    """The start-up warning about ops channels whose URL variable is unset (said once, here, rather
    than as an error on every failure)."""
    from newsmon.alerts.outbox import unconfigured_ops_channels
    from newsmon.alerts.rules import load_alert_config

    try:
        unset = unconfigured_ops_channels(load_alert_config(), env)
    except Exception as exc:  # a broken alerts file must not stop the services: the DAG reports it
        return [f"warning: the alert configuration does not load: {exc}"]
    return [f"warning: ops channel {name!r} is off ({var} is not set): failures and feed-health "
            f"changes are not sent anywhere; set {var} to an Apprise URL to turn it on"
            for name, var in unset.items()]


def passwords_from_env(path: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """Write the simple auth manager's password file (JSON, 0600) from the environment, for compose:
    every user of AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS needs its password in AIRFLOW_PASSWORDS
    (``user:password,...``). Returns the users written."""
    env = os.environ if env is None else env
    users = [name for name, _ in parse_users(env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS")
                                             or DEFAULT_USERS)]
    items = (env.get("AIRFLOW_PASSWORDS") or "").split(",")
    given = dict(item.split(":", 1) for item in items if ":" in item)
    missing = [name for name in users if not given.get(name)]
    if missing:
        raise ServiceError(f"AIRFLOW_PASSWORDS has no password for {', '.join(missing)} "
                           "(user:password,... in .env; one per user of AIRFLOW_USERS)")
    weak = [name for name in users if len(given[name]) < 12]
    if weak:
        raise ServiceError(f"AIRFLOW_PASSWORDS: the password of {', '.join(weak)} is shorter than "
                           "12 characters")
    _write_private(path, json.dumps({name: given[name] for name in users}) + "\n")
    return users


def _printer(out: object) -> object:
    def say(text: str) -> None:
        print(text, file=out or sys.stdout, flush=True)

    return say


def _check_port_free(port: int, variable: str) -> None:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ServiceError(f"port {port} is taken ({exc}): set {variable} to a free port") from None


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc), or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _alive(pid: int) -> bool:
    return _start_time(pid) is not None


def _family(roots: Iterable[int]) -> set[int]:
    """``roots``, every process in their sessions, and all their descendants (live ones)."""
    roots = set(roots)
    parents: dict[int, int] = {}
    sessions: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            continue
        parents[int(entry.name)] = int(fields[1])
        sessions[int(entry.name)] = int(fields[3])
    family = {pid for pid in roots if pid in parents}
    family |= {pid for pid, sid in sessions.items() if sid in roots}
    changed = True
    while changed:
        children = {pid for pid, ppid in parents.items() if ppid in family} - family
        family |= children
        changed = bool(children)
    family.discard(os.getpid())
    return family


def _signal(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def status(deployment: Deployment) -> int:
    running = deployment.recorded()
    expected = list(deployment.commands()) if running else []
    if not running:
        print("not running (start with `make up`)")
        return 3
    for name in sorted(set(expected) | set(running)):
        print(f"  {name:14} {'pid ' + str(running[name]) if name in running else 'NOT RUNNING'}")
    report: dict = {}
    for _ in range(3):  # a busy API server (2 cores, runs starting) may take a few seconds
        report = deployment.health(timeout=10)
        if report:
            break
        time.sleep(2)
    print(f"API {deployment.api_url}: " + (", ".join(f"{k} {v.get('status')}" for k, v in report.items()
                                                     if isinstance(v, dict)) or "no answer"))
    return 0 if deployment.healthy(report) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsmon-services", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down", "status", "passwords-from-env"))
    parser.add_argument("--demo", action="store_true", help="serve the sample site and poll it")
    parser.add_argument("--file", type=Path, help="passwords-from-env: the file to write")
    args = parser.parse_args(argv)
    if args.action == "passwords-from-env":
        target = args.file or os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
        if not target:
            print("passwords-from-env: give --file or set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
                  file=sys.stderr)
            return 2
        target = Path(target)
        try:
            print(f"passwords of {', '.join(passwords_from_env(target))} written to {target}")
        except ServiceError as exc:
            print(f"passwords-from-env: {exc}", file=sys.stderr)
            return 2
        return 0
    state = Path(os.environ.get("NEWSMON_SERVICE_DIR") or SERVICE_DIR) / "up.json"
    if args.action == "up":
        try:
            deployment = Deployment.from_env(demo=args.demo)
            deployment.up()
        except ServiceError as exc:
            print(f"make up: {exc}", file=sys.stderr)
            return 1
        _write_private(state, json.dumps({"demo": args.demo, "api_port": deployment.api_port,
                                          "api_host": deployment.api_host,
                                          "samples_port": deployment.samples_port}))
        return 0
    try:
        saved = json.loads(state.read_text()) if state.exists() else {}
        deployment = Deployment.from_env(demo=bool(saved.get("demo")))
    except (ServiceError, ValueError) as exc:  # a bad setting, or an up.json that is not JSON
        print(f"make {args.action}: {state}: {exc}", file=sys.stderr)
        return 1
    deployment.api_port = int(saved.get("api_port") or deployment.api_port)
    deployment.api_host = saved.get("api_host") or deployment.api_host
    if args.action == "status":
        return status(deployment)
    stopped = deployment.down()
    print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
