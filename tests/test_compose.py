"""The container setup (Dockerfile, docker-compose.yml, docker/) checked statically against the code.

No Docker engine is needed: the files are parsed and compared with what the code reads (settings,
DAG wiring, CLI, migrations), so a renamed setting, a typo in a variable or a path that moved fails
here instead of at ``docker compose up``.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import posixpath
import re
import shlex
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
INITDB_TARGET = "/docker-entrypoint-initdb.d"

DEFAULT_AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                            "airflow-triggerer")
CELERY_PROFILE = "celery"
CELERY_SERVICES = ("redis", "airflow-worker")  # only with `--profile celery`
AIRFLOW_SERVICES = (*DEFAULT_AIRFLOW_SERVICES, "airflow-worker")
LONG_RUNNING = ("postgres", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", *CELERY_SERVICES)
ONE_SHOT = ("airflow-init", "newsmon-migrate")
APP_SERVICES = (*AIRFLOW_SERVICES, "newsmon-migrate")  # everything running the newsmon image
DEFAULT_SERVICES = ("postgres", *DEFAULT_AIRFLOW_SERVICES, "newsmon-migrate")  # `docker compose up`
EXPECTED_SERVICES = (*DEFAULT_SERVICES, *CELERY_SERVICES)

_INTERPOLATION_RE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}"  # ${VAR}, ${VAR:-default}, ${VAR?error}
    r"|\$([A-Za-z_][A-Za-z0-9_]*)"  # $VAR
)


# --- parsing helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))  # safe_load resolves anchors and <<:
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), "no services: mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _interpolate(value: str, variables: dict[str, str] | None = None) -> str:
    """``value`` as Compose would expand it with ``variables`` (default: none) set in the shell or
    .env: ``${X:-d}`` gives X's value, or d when X is unset or empty."""
    variables = variables or {}

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        if variables.get(name):
            return variables[name]
        if match.group(2) in (":-", "-"):
            return match.group(3)
        return ""

    return _INTERPOLATION_RE.sub(repl, value.replace("$$", "\0")).replace("\0", "$")


def _env(service: dict[str, Any], variables: dict[str, str] | None = None) -> dict[str, str]:
    """A service's ``environment`` (mapping or list form), values as strings, interpolated with
    ``variables`` (default: none set, so the defaults)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    env = {}
    for key, value in raw.items():
        text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        env[key] = _interpolate(text, variables)
    return env


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _shell_commands(service: dict[str, Any]) -> list[list[str]]:
    """The command as the simple commands it runs: a ``bash -c``/``sh -c`` script (Compose-interpolated
    with defaults) split on ``&&``, ``;`` and ``||``; any other command as it is."""
    command = _command(service)
    if len(command) >= 3 and command[0] in ("bash", "sh", "/bin/bash", "/bin/sh") and command[1] == "-c":
        lexer = shlex.shlex(_interpolate(command[2]), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        commands: list[list[str]] = [[]]
        for token in lexer:
            if token in ("&&", ";", "||"):
                commands.append([])
            else:
                commands[-1].append(token)
        return [c for c in commands if c]
    return [command]


def _profiles(service: dict[str, Any]) -> list[str]:
    return [str(profile) for profile in service.get("profiles") or []]


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` as {service: condition}; the short (list) form means service_started."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def _volume_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume, short or long syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, target = str(volume).split(":")[:2]
            mounts.append((source, target))
    return mounts


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in _dockerfile_instructions():
        if keyword != "ENV":
            continue
        tokens = shlex.split(args)
        if tokens and "=" not in tokens[0]:  # legacy form: ENV KEY value with spaces
            env[tokens[0]] = " ".join(tokens[1:])
        else:
            env.update(token.split("=", 1) for token in tokens)
    return env


def _dockerfile_copies() -> dict[str, str]:
    """Repository path (no trailing slash) -> absolute path in the image, for every COPY from the context."""
    copies: dict[str, str] = {}
    workdir = "/"
    for keyword, args in _dockerfile_instructions():
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, args)
        if keyword not in ("COPY", "ADD"):
            continue
        tokens = shlex.split(args)
        flags = [t for t in tokens if t.startswith("--")]
        if any(flag.startswith("--from") for flag in flags):
            continue
        paths = [t for t in tokens if not t.startswith("--")]
        sources, dest = paths[:-1], paths[-1]
        dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
        for source in sources:
            repo_path = source.rstrip("/")
            if (ROOT / repo_path).is_dir():
                copies[repo_path] = dest_abs  # a directory's contents land in dest
            elif dest.endswith("/") or len(sources) > 1:
                copies[repo_path] = posixpath.join(dest_abs, posixpath.basename(repo_path))
            else:
                copies[repo_path] = dest_abs
    return copies


def _image_path(repo_path: str) -> str | None:
    """Where ``repo_path`` ends up in the image, or None when the Dockerfile does not copy it."""
    for source, target in sorted(_dockerfile_copies().items(), key=lambda item: -len(item[0])):
        if repo_path == source:
            return target
        if repo_path.startswith(source + "/"):
            return posixpath.join(target, repo_path[len(source) + 1:])
    return None


def _repo_path(image_path: str) -> str | None:
    """The repository path the Dockerfile copies to ``image_path``, or None."""
    image_path = posixpath.normpath(image_path)
    for source, target in sorted(_dockerfile_copies().items(), key=lambda item: -len(item[1])):
        if image_path == target:
            return source
        if image_path.startswith(target + "/"):
            return posixpath.join(source, image_path[len(target) + 1:])
    return None


def _init_sql(services: dict[str, dict[str, Any]]) -> str:
    """The text of every SQL init script mounted into the postgres service."""
    texts = []
    for source, target in _volume_mounts(services["postgres"]):
        if not target.rstrip("/").startswith(INITDB_TARGET):
            continue
        host = (COMPOSE_FILE.parent / source).resolve()
        assert host.exists(), f"postgres mounts {source} into {target} but it is not in the repository"
        files = sorted(host.glob("*.sql")) if host.is_dir() else [host]
        texts += [path.read_text(encoding="utf-8") for path in files]
    assert texts, f"the postgres service mounts no .sql init script into {INITDB_TARGET}"
    return re.sub(r"--[^\n]*", "", "\n".join(texts))


def _created_databases(sql: str) -> dict[str, str | None]:
    """{database: owner} of every CREATE DATABASE in ``sql``."""
    found = {}
    for match in re.finditer(r'CREATE\s+DATABASE\s+"?(\w+)"?([^;]*);', sql, re.IGNORECASE):
        owner = re.search(r'OWNER\s*=?\s*"?(\w+)"?', match.group(2), re.IGNORECASE)
        found[match.group(1)] = owner.group(1) if owner else None
    return found


def _created_roles(sql: str) -> dict[str, str | None]:
    """{role: password} of every CREATE ROLE/USER in ``sql``."""
    found = {}
    for match in re.finditer(r'CREATE\s+(?:ROLE|USER)\s+"?(\w+)"?([^;]*);', sql, re.IGNORECASE):
        password = re.search(r"PASSWORD\s+'([^']*)'", match.group(2), re.IGNORECASE)
        found[match.group(1)] = password.group(1) if password else None
    return found


def _postgres_urls(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """'service: VARIABLE' -> URL for every PostgreSQL URL in a service environment (Celery's
    ``db+postgresql://`` result backend included)."""
    return {f"{name}: {key}": value for name, service in services.items()
            for key, value in _env(service).items()
            if re.match(r"^(db\+)?postgres(ql)?(\+\w+)?://", value)}


def _string_constants(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _news_db_conn_id() -> str:
    tree = ast.parse((ROOT / "dags" / "newsmon_airflow.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "NEWS_DB_CONN_ID"
                                                 for t in node.targets)):
            return ast.literal_eval(node.value)
    raise AssertionError("dags/newsmon_airflow.py no longer defines NEWS_DB_CONN_ID")


def _build_context(service: dict[str, Any]) -> tuple[Path, str] | None:
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        build = {"context": build}
    return (COMPOSE_FILE.parent / build.get("context", ".")).resolve(), build.get("dockerfile", "Dockerfile")


# --- the stack ---------------------------------------------------------------------------------


def test_services_present(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    """The default stack (the services without a profile) is PostgreSQL, the five Airflow 3 components
    (init, API server, scheduler, DAG processor, triggerer) and the newsmon migration job; the
    ``celery`` profile adds Redis and the Celery worker; in a Compose-spec file (no ``version:``)."""
    assert "version" not in compose, "the Compose spec has no version: key (Compose warns about it)"
    missing = [name for name in EXPECTED_SERVICES if name not in services]
    assert missing == []
    default = sorted(name for name, service in services.items() if not _profiles(service))
    assert default == sorted(DEFAULT_SERVICES), f"`docker compose up` would start {default}"
    celery = sorted(name for name, service in services.items() if CELERY_PROFILE in _profiles(service))
    assert celery == sorted(CELERY_SERVICES), f"`--profile {CELERY_PROFILE}` adds {celery}"


def test_app_services_use_the_image_built_from_the_dockerfile(services: dict[str, dict[str, Any]]) -> None:
    """Every service running newsmon/Airflow builds the repository's Dockerfile and tags it with one
    image name, so ``docker compose up`` builds one image that all of them run."""
    images = set()
    for name in APP_SERVICES:
        context = _build_context(services[name])
        assert context is not None, f"{name} has no build: (it would run a stale or pulled image)"
        directory, dockerfile = context
        assert directory == ROOT, f"{name} builds {directory}, not the repository"
        assert (directory / dockerfile).resolve() == DOCKERFILE, f"{name} builds {dockerfile}"
        images.add(services[name].get("image"))
    assert len(images) == 1 and None not in images, f"the app services use different images: {images}"


def test_airflow_components_share_executor_metadata_and_secrets(services: dict[str, dict[str, Any]]) -> None:
    """All Airflow components (the Celery worker included) use the same executor (LocalExecutor by
    default), the same PostgreSQL metadata database, Celery broker and result backend, and the same
    JWT/API/Fernet secrets (tokens one component signs are checked by another), and the execution API
    URL the task runners call is served by the service that runs ``airflow api-server``."""
    shared = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
              "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY",
              "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__CORE__AUTH_MANAGER",
              "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND")
    envs = {name: _env(services[name]) for name in AIRFLOW_SERVICES}
    for key in shared:
        values = {name: env.get(key) for name, env in envs.items()}
        missing = [n for n, v in values.items() if v is None]
        assert missing == [], f"{key} is missing from {missing}"
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"
    env = envs["airflow-scheduler"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), "metadata must not be SQLite"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"], "an empty JWT secret makes each component invent its own"
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname in services, f"execution API host {api.hostname!r} is not a service"
    assert _command(services[api.hostname])[:2] == ["airflow", "api-server"]
    assert api.path.rstrip("/") == "/execution"


def test_image_has_the_async_postgres_driver_airflow_needs() -> None:
    """Airflow 3 derives ``postgresql+asyncpg://`` from the metadata URL and will not even start
    without asyncpg: the image gets it from requirements.lock or installs it explicitly."""
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    in_lock = re.search(r"^asyncpg==", lock, re.MULTILINE | re.IGNORECASE) is not None
    runs = " ".join(args for keyword, args in _dockerfile_instructions() if keyword == "RUN")
    assert in_lock or re.search(r"install[^&;]*\basyncpg==[\d.]+", runs), "no asyncpg in the image"


# --- newsmon settings and CLI ------------------------------------------------------------------


def test_migrate_service_runs_the_newsmon_migrate_command(services: dict[str, dict[str, Any]]) -> None:
    """``newsmon-migrate`` runs ``newsmon migrate`` once: ``newsmon`` is the console script declared in
    pyproject.toml and ``migrate`` a subcommand of ``newsmon.cli.build_parser()``."""
    import importlib

    from newsmon.cli import build_parser

    command = _command(services["newsmon-migrate"])
    assert command[:2] == ["newsmon", "migrate"], command
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert command[0] in scripts, f"{command[0]!r} is not in [project.scripts]: {sorted(scripts)}"
    module, _, func = scripts[command[0]].partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    subcommands = {choice for action in build_parser()._actions
                   if isinstance(action, argparse._SubParsersAction) for choice in action.choices}
    assert command[1] in subcommands, f"{command[1]!r} is not a newsmon subcommand: {sorted(subcommands)}"


def test_newsmon_variables_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    """Every ``NEWSMON_*`` variable set in docker-compose.yml or the Dockerfile is read by the code
    (a ``Settings`` field, a string literal in dags/*.py, plugins/*.py or src/newsmon/**/*.py, or the
    environment variable of a channel in config/alerts.yml), so a typo fails here;
    NEWSMON_DATABASE_URL is set wherever newsmon code runs; and the values parse as ``Settings``."""
    from newsmon.core.config import Settings

    known = {"NEWSMON_" + f.name.upper() for f in fields(Settings)}
    for path in [*(ROOT / "dags").glob("*.py"), *(ROOT / "plugins").glob("*.py"),
                 *(ROOT / "src" / "newsmon").rglob("*.py")]:
        known |= {s for s in _string_constants(path) if re.fullmatch(r"NEWSMON_[A-Z0-9_]+", s)}
    from newsmon.alerts.rules import load_alert_config

    known |= {c.env for c in load_alert_config(ROOT / "config" / "alerts.yml", env={}).channels.values()
              if c.env}
    image_env = _dockerfile_env()
    used = {f"Dockerfile: {key}" for key in image_env if key.startswith("NEWSMON_")}
    for name, service in services.items():
        used |= {f"{name}: {key}" for key in _env(service) if key.startswith("NEWSMON_")}
    unknown = sorted(item for item in used if item.split(": ")[1] not in known)
    assert unknown == [], f"NEWSMON_* variables nothing reads (typo?): {unknown}"
    for name in APP_SERVICES:
        env = {**image_env, **_env(services[name])}
        assert env.get("NEWSMON_DATABASE_URL"), f"{name} does not set NEWSMON_DATABASE_URL"
        Settings.from_env(env)  # raises ConfigError on a badly typed or non-positive value


def test_sql_dir_is_where_the_migrations_are_copied() -> None:
    """NEWSMON_SQL_DIR (read by newsmon.operations.migrate) points at the image copy of sql/, which holds the
    migration files."""
    assert "NEWSMON_SQL_DIR" in _string_constants(ROOT / "src" / "newsmon" / "operations" / "migrate.py")
    assert _dockerfile_env().get("NEWSMON_SQL_DIR") == _image_path("sql")
    assert list((ROOT / "sql").glob("*.sql")), "no migrations in sql/"


def test_feeds_file_is_in_the_image(services: dict[str, dict[str, Any]]) -> None:
    """NEWSMON_FEEDS_FILE in compose is a path the Dockerfile copies from the repository, and that
    file is a valid feeds file with the environment the services get."""
    from newsmon.core.config import load_feeds

    values = {_env(services[name]).get("NEWSMON_FEEDS_FILE") for name in AIRFLOW_SERVICES}
    assert len(values) == 1 and None not in values, f"NEWSMON_FEEDS_FILE differs or is missing: {values}"
    feeds_file = values.pop()
    repo_path = _repo_path(feeds_file)
    assert repo_path is not None, f"the Dockerfile copies nothing to {feeds_file}"
    assert (ROOT / repo_path).is_file(), f"{repo_path} (copied into the image as {feeds_file}) is missing"
    load_feeds(ROOT / repo_path, env=_env(services["airflow-scheduler"]))


# --- Airflow wiring ----------------------------------------------------------------------------


def test_news_db_connection_is_defined(services: dict[str, dict[str, Any]]) -> None:
    """``AIRFLOW_CONN_<NEWS_DB_CONN_ID>`` (the Connection dags/newsmon_airflow.py looks up) is set in
    every Airflow component to the same PostgreSQL database as NEWSMON_DATABASE_URL (what the CLI
    uses), with host, user and database filled in."""
    variable = "AIRFLOW_CONN_" + _news_db_conn_id().upper()
    for name in AIRFLOW_SERVICES:
        env = _env(services[name])
        assert variable in env, f"{name} does not set {variable}"
        url = urlsplit(env[variable])
        assert url.scheme in ("postgres", "postgresql"), url.scheme
        assert url.hostname and url.username and url.path.strip("/"), env[variable]
        assert env[variable] == env.get("NEWSMON_DATABASE_URL"), "DAGs and CLI would use different databases"
    migrate_url = _env(services["newsmon-migrate"])["NEWSMON_DATABASE_URL"]
    assert migrate_url == _env(services["airflow-scheduler"])[variable], "migrations go to another database"


def test_dockerfile_folders_match_what_it_copies() -> None:
    """The DAGs and plugins folders Airflow is pointed at are where the Dockerfile copies dags/ and
    plugins/, examples are off, AIRFLOW_HOME is set, and every copied source exists."""
    env = _dockerfile_env()
    assert env.get("AIRFLOW__CORE__DAGS_FOLDER") == _image_path("dags")
    assert env.get("AIRFLOW__CORE__PLUGINS_FOLDER") == _image_path("plugins")
    assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false"
    assert env.get("AIRFLOW_HOME", "").startswith("/")
    missing = [source for source in _dockerfile_copies() if not (ROOT / source).exists()]
    assert missing == [], f"the Dockerfile copies paths that do not exist: {missing}"
    for needed in ("src", "sql", "dags", "plugins", "config", "pyproject.toml", "requirements.lock"):
        assert _image_path(needed) is not None, f"the Dockerfile does not copy {needed}"


def test_compose_does_not_move_the_dag_folders(services: dict[str, dict[str, Any]]) -> None:
    """If compose overrides the DAGs/plugins folder or NEWSMON_SQL_DIR, it points where the image has them."""
    image_env = _dockerfile_env()
    for name in APP_SERVICES:
        env = _env(services[name])
        for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER", "NEWSMON_SQL_DIR"):
            assert env.get(key, image_env[key]) == image_env[key], f"{name} moves {key}"


def test_dockerfile_installs_from_the_lock() -> None:
    """The image is pinned to python:<lock's Python>-slim-bookworm, installs the dependencies with
    ``uv pip sync`` from requirements.lock, then the project itself editable with ``--no-deps``."""
    instructions = _dockerfile_instructions()
    base = next(args for keyword, args in instructions if keyword == "FROM").split()[0]
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    python = re.search(r"--python-version\s+(\d+\.\d+)", lock)
    assert python, "requirements.lock does not say which Python it was compiled for"
    assert base == f"python:{python.group(1)}-slim-bookworm", base
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(re.search(r"uv pip sync --system requirements\.lock", run) for run in runs)
    assert any(re.search(r"uv pip install --system --no-deps -e \.", run) for run in runs)
    assert _image_path("requirements.lock") is not None
    assert _dockerfile_env().get("UV_COMPILE_BYTECODE") == "1"
    pins = {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.MULTILINE)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: re-lock"
        assert requirement.specifier.contains(pins[name]), f"{requirement} but the lock has {pins[name]}"


def test_image_runs_as_airflow_without_entrypoint() -> None:
    """The image runs as the non-root user ``airflow`` (uid 50000) and has no ENTRYPOINT: compose
    spells out each service's command."""
    instructions = _dockerfile_instructions()
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] in ("airflow", "50000"), users
    assert any(re.search(r"useradd\b.*--uid 50000\b.*\bairflow\b", args)
               for keyword, args in instructions if keyword == "RUN")
    assert "ENTRYPOINT" not in {keyword for keyword, _ in instructions}


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    """.dockerignore leaves out the venv, local state and git, but none of the paths the Dockerfile copies."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    for must in (".venv", ".local", ".git"):
        assert must in patterns, f".dockerignore should exclude {must}"
    for source in _dockerfile_copies():
        parts = source.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        hit = [p for p in patterns if not p.startswith("!") and any(fnmatch.fnmatch(x, p) for x in prefixes)]
        assert hit == [], f".dockerignore excludes {source} (pattern {hit})"


# --- PostgreSQL --------------------------------------------------------------------------------


def test_init_script_creates_every_database_the_urls_use(services: dict[str, dict[str, Any]]) -> None:
    """Every PostgreSQL URL in the stack points at the postgres service and at a database the init
    script creates, owned by the URL's user, a role the script creates with the URL's password."""
    sql = _init_sql(services)
    databases, roles = _created_databases(sql), _created_roles(sql)
    urls = _postgres_urls(services)
    assert any(key.endswith("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") for key in urls)
    assert any(key.endswith("NEWSMON_DATABASE_URL") for key in urls)
    for where, value in urls.items():
        url = urlsplit(value)
        database = url.path.strip("/")
        assert url.hostname == "postgres", f"{where} points at {url.hostname}, not the postgres service"
        assert database in databases, f"{where}: database {database!r} is not created by the init script"
        assert databases[database] == url.username, f"{where}: {database!r} is not owned by {url.username!r}"
        assert roles.get(url.username) == url.password, f"{where}: role/password differ from the init script"


def test_postgres_service(services: dict[str, dict[str, Any]]) -> None:
    """PostgreSQL keeps its data in a named volume and has a pg_isready healthcheck that the services
    waiting for ``service_healthy`` rely on."""
    postgres = services["postgres"]
    assert str(postgres.get("image", "")).startswith("postgres:16")
    assert "pg_isready" in " ".join(map(str, postgres["healthcheck"]["test"]))
    data = [source for source, target in _volume_mounts(postgres) if target == "/var/lib/postgresql/data"]
    assert data and not data[0].startswith((".", "/")), "the data directory should be a named volume"


# --- start-up order ----------------------------------------------------------------------------


def test_depends_on_graph(services: dict[str, dict[str, Any]]) -> None:
    """The long-running Airflow components start only after ``airflow db migrate`` and ``newsmon
    migrate`` completed successfully; both one-shots wait for a healthy PostgreSQL; every dependency
    exists, waits for a healthcheck only where one is defined, and the graph has no cycle."""
    for name in AIRFLOW_SERVICES[1:]:
        deps = _depends_on(services[name])
        for one_shot in ONE_SHOT:
            assert deps.get(one_shot) == "service_completed_successfully", f"{name} -> {one_shot}: {deps}"
    for name in ONE_SHOT:
        assert _depends_on(services[name]).get("postgres") == "service_healthy", name
    for name, service in services.items():
        for dependency, condition in _depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"depends_on cycle through {name}"
        if name in done:
            return
        visiting.add(name)
        for dependency in _depends_on(services[name]):
            visit(dependency)
        visiting.discard(name)
        done.add(name)

    for name in services:
        visit(name)


def test_restart_policies(services: dict[str, dict[str, Any]]) -> None:
    """Long-running services restart unless stopped; one-shot jobs never restart (they would loop)."""
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name
    for name in ONE_SHOT:
        assert str(services[name].get("restart", "no")) in ("no", "False", "false"), name


# --- scale-out: the celery profile and the fetch pool ------------------------------------------


def _lock_pins() -> dict[str, str]:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.MULTILINE)}


def test_executor_is_local_by_default_and_celery_on_request(services: dict[str, dict[str, Any]]) -> None:
    """With nothing set every Airflow component runs LocalExecutor (the default stack needs no
    broker); ``AIRFLOW_EXECUTOR=CeleryExecutor`` switches all of them, the worker included, at once."""
    for name in AIRFLOW_SERVICES:
        assert _env(services[name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        celery = _env(services[name], {"AIRFLOW_EXECUTOR": "CeleryExecutor"})
        assert celery["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_celery_worker_runs_the_same_image_and_env(services: dict[str, dict[str, Any]]) -> None:
    """``airflow-worker`` runs ``airflow celery worker`` from the image the other components run, with
    the same environment and logs volume (tasks it runs need the same settings and connection), and
    starts after Redis is healthy and both schemas are migrated."""
    worker, scheduler = services["airflow-worker"], services["airflow-scheduler"]
    assert _command(worker) == ["airflow", "celery", "worker"]
    assert worker.get("image") == scheduler.get("image")
    assert _build_context(worker) == _build_context(scheduler)
    worker_env = _env(worker)
    assert worker_env == _env(services["airflow-apiserver"]), "the worker's environment differs"
    scheduler_env = {key: value for key, value in _env(scheduler).items()
                     if not key.startswith("AIRFLOW__SCHEDULER__")}
    assert worker_env == scheduler_env, "the worker and the scheduler (which runs LocalExecutor tasks) differ"
    assert _volume_mounts(worker) == _volume_mounts(scheduler)
    deps = _depends_on(worker)
    assert deps.get("redis") == "service_healthy", deps
    for one_shot in ONE_SHOT:
        assert deps.get(one_shot) == "service_completed_successfully", deps


def test_celery_broker_is_redis_and_results_go_to_the_metadata_db(
        services: dict[str, dict[str, Any]]) -> None:
    """The broker URL points at the ``redis`` service (a redis image with a healthcheck, in the celery
    profile); the result backend at the postgres service's Airflow metadata database, as the same
    user as AIRFLOW__DATABASE__SQL_ALCHEMY_CONN."""
    env = _env(services["airflow-worker"])
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis", broker.scheme
    assert broker.hostname in services, f"broker host {broker.hostname!r} is not a service"
    redis = services[broker.hostname]
    assert str(redis.get("image", "")).startswith("redis:"), redis.get("image")
    assert CELERY_PROFILE in _profiles(redis) and "healthcheck" in redis
    assert (broker.port or 6379) == 6379
    backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert backend.scheme.startswith("db+postgresql"), backend.scheme
    for where, url in (("AIRFLOW__CELERY__RESULT_BACKEND", env["AIRFLOW__CELERY__RESULT_BACKEND"][3:]),
                       ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])):
        _assert_driver_importable(where, url)
    assert backend.hostname == metadata.hostname == "postgres"
    assert (backend.path, backend.username, backend.password) == (
        metadata.path, metadata.username, metadata.password), "the result backend is not the metadata DB"


def _assert_driver_importable(where: str, url: str) -> None:
    """The DBAPI driver SQLAlchemy picks for ``url`` is installed (a bare ``postgresql://`` means
    psycopg 3 under SQLAlchemy 2.1, which the lock does not install: the worker died at start)."""
    from sqlalchemy.engine import make_url

    dialect = make_url(url).get_dialect()
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise AssertionError(f"{where}: {make_url(url).drivername} needs a driver that is not "
                             f"installed ({exc}); write postgresql+psycopg2://") from None


def test_driver_check_catches_a_bare_postgresql_url() -> None:
    """The check above fails on the URL that broke the Celery profile (unless psycopg 3 is installed)."""
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg 3 is installed here: a bare postgresql:// would work")
    with pytest.raises(AssertionError, match="psycopg2"):
        _assert_driver_importable("x", "postgresql://airflow:airflow@postgres:5432/airflow")


def test_login_is_always_on(services: dict[str, dict[str, Any]]) -> None:
    """No all-admins mode: named users (AIRFLOW_USERS), passwords from AIRFLOW_PASSWORDS (required:
    compose refuses to start without it) written by airflow-init to a volume the API server reads;
    the API is published on 127.0.0.1 only."""
    init_env = _env(services["airflow-init"], {"AIRFLOW_PASSWORDS": "admin:0123456789abcdef"})
    assert init_env["AIRFLOW_PASSWORDS"] == "admin:0123456789abcdef"
    raw_init = str((services["airflow-init"].get("environment") or {}).get("AIRFLOW_PASSWORDS"))
    assert ":?" in raw_init, "AIRFLOW_PASSWORDS must be required (${AIRFLOW_PASSWORDS:?...})"
    for name in AIRFLOW_SERVICES:
        env = _env(services[name])
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"].lower() == "false", name
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin", name
        if name != "airflow-init":
            assert "AIRFLOW_PASSWORDS" not in env, f"{name} should not see the passwords"
    password_file = _env(services["airflow-apiserver"])["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    folder = posixpath.dirname(password_file)
    for name in ("airflow-init", "airflow-apiserver"):
        assert any(target == folder and not source.startswith((".", "/"))
                   for source, target in _volume_mounts(services[name])), f"{name} lacks the auth volume"
    commands = _shell_commands(services["airflow-init"])
    assert ["python", "-m", "newsmon.operations.services", "passwords-from-env"] in commands, commands
    for published in services["airflow-apiserver"].get("ports", []):
        assert str(published).startswith("127.0.0.1:"), published


def test_passwords_from_env_writes_what_the_auth_manager_reads(tmp_path: Path) -> None:
    """airflow-init's step: one password per configured user, each at least 12 characters, 0600."""
    import json

    from newsmon.operations.services import ServiceError, passwords_from_env

    target = tmp_path / "auth" / "passwords.json"
    env = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "alice:admin,bob:viewer",
           "AIRFLOW_PASSWORDS": "alice:correct-horse-battery,bob:staple:with:colons"}
    assert passwords_from_env(target, env) == ["alice", "bob"]
    assert json.loads(target.read_text()) == {"alice": "correct-horse-battery", "bob": "staple:with:colons"}
    assert target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ServiceError, match="bob"):
        passwords_from_env(target, {**env, "AIRFLOW_PASSWORDS": "alice:correct-horse-battery"})
    with pytest.raises(ServiceError, match="shorter"):
        passwords_from_env(target, {**env, "AIRFLOW_PASSWORDS": "alice:short,bob:staple:with:colons"})


def _newsmon_airflow_module(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    import importlib.util

    monkeypatch.delenv("NEWSMON_FETCH_POOL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = ROOT / "dags" / "newsmon_airflow.py"
    spec = importlib.util.spec_from_file_location("_newsmon_airflow_probe", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetch_pool_is_created_by_airflow_init(services: dict[str, dict[str, Any]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Airflow component gets the same NEWSMON_FETCH_POOL; airflow-init runs ``airflow db
    migrate`` and then ``airflow pools set`` for exactly that pool with a positive slot count; the
    DAG helper returns that name (and ``default_pool`` when unset, as in local runs and tests)."""
    names = {_env(services[name]).get("NEWSMON_FETCH_POOL") for name in AIRFLOW_SERVICES}
    assert len(names) == 1 and None not in names, f"NEWSMON_FETCH_POOL differs or is missing: {names}"
    pool = names.pop()
    commands = _shell_commands(services["airflow-init"])
    assert commands[0] == ["airflow", "db", "migrate"], commands
    pool_sets = [c for c in commands if c[:3] == ["airflow", "pools", "set"]]
    assert len(pool_sets) == 1, f"airflow-init does not create the pool: {commands}"
    assert commands.index(pool_sets[0]) > 0, "the pool is set before the schema exists"
    name, slots = pool_sets[0][3], pool_sets[0][4]
    assert name == pool, f"airflow-init creates {name!r} but the DAGs use {pool!r}"
    assert slots.isdigit() and int(slots) > 0, slots
    module = _newsmon_airflow_module(monkeypatch, {"NEWSMON_FETCH_POOL": pool})
    assert module.fetch_pool() == pool
    assert _newsmon_airflow_module(monkeypatch, {}).fetch_pool() == "default_pool"


def test_fetching_tasks_run_in_the_fetch_pool() -> None:
    """``poll_feed`` and ``process_batch`` (the tasks that hit remote sites) take ``pool=fetch_pool()``."""
    tree = ast.parse((ROOT / "dags" / "news_ingest.py").read_text(encoding="utf-8"))
    pooled = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and any(
                    kw.arg == "pool" and isinstance(kw.value, ast.Call)
                    and isinstance(kw.value.func, ast.Name) and kw.value.func.id == "fetch_pool"
                    for kw in decorator.keywords):
                pooled.add(node.name)
    assert {"poll_feed", "process_batch"} <= pooled, pooled


def test_celery_extra_is_locked() -> None:
    """The ``celery`` extra (the Celery provider and the Redis client the worker needs) is declared in
    pyproject.toml and pinned in requirements.lock, which the image installs."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"]
    requirements = [Requirement(dependency) for dependency in extras.get("celery", [])]
    names = {canonicalize_name(r.name) for r in requirements}
    assert {"apache-airflow-providers-celery", "redis"} <= names, names
    pins = _lock_pins()
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: re-lock with --extra celery"
        assert requirement.specifier.contains(pins[name]), f"{requirement} but the lock has {pins[name]}"
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"--extra celery\b", lock), "requirements.lock was not compiled with --extra celery"


def test_dag_parse_time_knobs_reach_every_airflow_component(services: dict[str, dict[str, Any]]) -> None:
    """The knobs the DAG files read with ``env_int`` when they are parsed (task concurrency, tag
    shards, retries) shape the DAG itself: the scheduler, the DAG processor and the workers must
    see the same values, so compose passes each one, from ``.env``, to every Airflow component."""
    knobs = set()
    for path in (ROOT / "dags").glob("*.py"):
        knobs |= set(re.findall(r'env_int\("(NEWSMON_[A-Z0-9_]+)"', path.read_text()))
    assert {"NEWSMON_TAG_SHARDS", "NEWSMON_POLL_CONCURRENCY"} <= knobs
    airflow = [name for name, service in services.items() if "airflow" in name and name != "airflow-init"]
    assert airflow
    from_dotenv = {knob: "7" for knob in knobs}
    for name in airflow:
        defaults, set_in_dotenv = _env(services[name]), _env(services[name], from_dotenv)
        missing = sorted(k for k in knobs if k not in defaults)
        assert missing == [], f"{name} does not pass {missing}"
        assert all(int(defaults[k]) >= 1 for k in knobs), defaults
        assert {k: set_in_dotenv[k] for k in knobs} == from_dotenv, f"{name}: not every knob comes from .env"
