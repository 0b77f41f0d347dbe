"""Airflow glue: notify ops (through newsmon's channels) when a DAG run or a task fails.

Used as ``on_failure_callback`` of the newsmon DAGs (DAG level and task level). Channels are
those of ``config/alerts.yml`` named by NEWSMON_OPS_CHANNELS (default ``ops``); their URLs
come from the environment, never from the repository.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)


def channel_env(config: Any) -> dict[str, str]:
    """The environment for newsmon's channels, completed from Airflow Connections: an Apprise
    channel whose variable is unset takes its URL from the Connection
    ``newsmon_channel_<name>`` (the ``url`` of its extra, else the connection URI)."""
    import os

    from airflow.sdk import Connection

    env = dict(os.environ)
    for channel in config.channels.values():
        if channel.kind != "apprise" or not channel.env or env.get(channel.env):
            continue
        try:
            conn = Connection.get(f"newsmon_channel_{channel.name}")
        except Exception:  # not defined (the exception type moved across Airflow versions)
            continue
        url = (conn.extra_dejson or {}).get("url") or conn.get_uri()
        if url:
            env[channel.env] = url
    return env


class NewsmonOpsNotifier(BaseNotifier):
    """Send "DAG/task failed" with the run, task, try and error to the ops channels."""

    template_fields = ("message",)

    def __init__(self, message: str = "{{ dag.dag_id }} failed (run {{ run_id }})",
                 level: str = "task") -> None:
        super().__init__()
        self.message = message
        self.level = level  # "dag" (on_failure_callback of the DAG) or "task"

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Upstream bug 64649: under ``dag.test()`` a DAG-level notifier gets no usable Jinja
        environment and rendering crashes; fall back to a sandboxed one."""
        try:
            super().render_template_fields(context, jinja_env)
        except Exception:  # the upstream failure is not a stable exception type
            from jinja2.sandbox import SandboxedEnvironment

            super().render_template_fields(context, SandboxedEnvironment())

    def notify(self, context: Any) -> None:
        from newsmon.alerts.outbox import send_ops
        from newsmon.alerts.rules import load_alert_config

        dag = context.get("dag")
        ti = context.get("ti") or context.get("task_instance")
        exception = context.get("exception")
        task = getattr(ti, "task_id", None)
        if self.level == "dag":
            title = f"newsmon: {getattr(dag, 'dag_id', '?')} run failed"
        else:
            title = f"newsmon: {getattr(dag, 'dag_id', '?')}" + (f".{task}" if task else "") + " failed"
        lines = [str(self.message), f"run: {context.get('run_id')}"]
        if task:
            lines.append(f"task: {task}, try {getattr(ti, 'try_number', '?')}")
        if exception is not None:
            lines.append(f"error: {type(exception).__name__}: {exception}"[:1000])
        payload = {"dag_id": getattr(dag, "dag_id", None), "task_id": task, "run_id": context.get("run_id"),
                   "error": str(exception)[:1000] if exception else None}
        try:
            config = load_alert_config()
            errors = send_ops(config, title, "\n".join(lines), payload, channel_env(config))
        except Exception as exc:  # a notifier must never turn a failure into a crash loop
            log.error("ops notification not sent: %s", exc)
            return
        for error in errors:
            log.error("ops notification not sent: %s", error)
