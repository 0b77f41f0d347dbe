"""Airflow cluster policy (loaded by every Airflow component from the plugins folder): the fetch
pool named by NEWSMON_FETCH_POOL never makes a run hang.

Airflow leaves a task whose pool does not exist in ``scheduled`` forever (the scheduler only logs
"Tasks using non-existent pool"). When the scheduler creates a task instance in that pool and the
pool is missing, this hook creates it (NEWSMON_FETCH_POOL_SLOTS slots, default 8) and logs a
warning saying how to size it. Other pools are left alone. Cheap at import: Airflow imports this
module in every process.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)
DEFAULT_SLOTS = 8


def ensure_fetch_pool(pool: str | None) -> bool:
    """Create ``pool`` when it is newsmon's fetch pool and does not exist; True when created."""
    wanted = os.environ.get("NEWSMON_FETCH_POOL")
    if not pool or pool != wanted or pool == "default_pool":
        return False
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    slots_text = os.environ.get("NEWSMON_FETCH_POOL_SLOTS", "").strip()
    slots = int(slots_text) if slots_text.isdigit() and int(slots_text) > 0 else DEFAULT_SLOTS
    try:
        # its own session: the scheduler's transaction around this hook is left untouched
        with create_session(scoped=False) as session:
            if Pool.get_pool(pool, session=session) is not None:
                return False
            Pool.create_or_update_pool(pool, slots, "newsmon: concurrent feed polls and page-fetching "
                                       "batches (created by newsmon's cluster policy)", False,
                                       session=session)
    except Exception as exc:  # e.g. created concurrently by another component: checked again next time
        log.warning("could not create the Airflow pool %r: %s", pool, exc)
        return False
    log.warning("the Airflow pool %r (NEWSMON_FETCH_POOL) did not exist: created it with %d slots. "
                "Set its size with `airflow pools set %s <slots> <description>` or "
                "NEWSMON_FETCH_POOL_SLOTS.", pool, slots, pool)
    return True


def task_instance_mutation_hook(task_instance: Any, dag_run: Any = None) -> None:
    """Called by the scheduler for each task instance it creates (mapped ones included)."""
    ensure_fetch_pool(getattr(task_instance, "pool", None))
