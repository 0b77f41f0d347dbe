# newsmon image: the newsmon package and Apache Airflow, installed from requirements.lock.
# One image runs every service in docker-compose.yml; each service's `command:` picks its role
# (airflow api-server | scheduler | dag-processor | triggerer | db migrate, newsmon migrate).
# No ENTRYPOINT on purpose: the command is always spelled out in docker-compose.yml.
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.9

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install "uv==${UV_VERSION}"

WORKDIR /opt/newsmon

# Dependencies first, so this (slow) layer is rebuilt only when the lock changes. `sync` makes the
# system site-packages exactly the lock (it also removes pip/setuptools, which nothing needs at run time).
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip sync --system requirements.lock

# The project itself, editable (no deps: they all come from the lock), so PROJECT_ROOT is
# /opt/newsmon and sql/, config/ and samples/ are found next to the package.
COPY pyproject.toml ./
COPY src/ src/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --system --no-deps -e .
COPY sql/ sql/
COPY config/ config/
COPY dags/ dags/
COPY plugins/ plugins/
COPY samples/ samples/

ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/newsmon/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/newsmon/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    NEWSMON_SQL_DIR=/opt/newsmon/sql

# Non-root, uid 50000 in group 0 like the official Airflow image (so running with another uid in
# group 0 still works); only AIRFLOW_HOME (airflow.cfg, logs) is writable, the code is not.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/auth \
    && chown -R airflow:0 /opt/airflow \
    && chmod -R g+rwX /opt/airflow

USER airflow
WORKDIR /opt/airflow
EXPOSE 8080
