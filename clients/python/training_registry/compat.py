"""The seeds' runs API (seed 002's ``apis.training_db`` and seed 003's
objectives functions) on the registry, as a drop-in: change the import line
and a script written for the SQLite module runs as it was.

    from training_registry.compat import insert_run, update_run_status, query_runs

The functions keep the seeds' names, arguments and return shapes: a run is a
flat dict of its columns, with ``config_json`` and ``final_metrics_json`` as
JSON text (as SQLite returned them, so ``json.loads(run['final_metrics_json'])``
still works). An argument left at None is "not given", as the seeds used it.
Where the registry's rules differ from the seed's, the function's docstring
says so. The client comes from ``TRAINING_REGISTRY_URL`` and
``TRAINING_REGISTRY_TOKEN``, or from ``configure(...)``.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from itertools import islice
from typing import Any, Dict, List, Mapping, Optional

from ._http import drop_none, utc_text
from .client import Client
from .errors import NotFound

__all__ = [
    "configure", "init_db", "insert_run", "update_run_status", "get_run", "query_runs", "attach_blog_post",
    "attach_crash_data", "attach_conversation", "get_stats", "get_run_objectives", "query_runs_by_objectives",
    "get_objective_statistics", "compare_gradient_methods", "delete_run_objectives",
]

#: Runs fetched per request while auto-paging (the server's largest page).
PAGE_SIZE = 1000
#: query_runs filters the list route takes as they are; any other key is a column compared with ``=``.
_LIST_FILTERS = frozenset({"status", "host", "gradient_method", "batch_size", "min_duration_hours", "created_after",
                           "created_before", "has_blog_post", "has_crash_analysis"})
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAIVE_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$")

_client: Optional[Client] = None


def configure(base_url: Optional[str] = None, token: Optional[str] = None, *, client: Optional[Client] = None,
              **options: Any) -> Client:
    """Sets the client the functions use (by default one from the environment) and answers it."""
    global _client
    _client = client or Client(base_url, token, **options)
    return _client


def _registry() -> Client:
    return _client or configure()


# -- shapes -------------------------------------------------------------------

def _seed_run(run: Mapping[str, Any]) -> Dict[str, Any]:
    """A run as the seed's ``get_run`` returned a row: JSON columns as text."""
    row = dict(run)
    for key in ("config_json", "final_metrics_json"):
        if row.get(key) is not None:
            row[key] = json.dumps(row[key])
    return row


def _utc(value: Any) -> Any:
    """A time as the server takes it: datetimes, and naive ISO text, are UTC (the seeds use ``utcnow()``)."""
    if isinstance(value, _dt.datetime):
        return utc_text(value)
    if isinstance(value, str) and _NAIVE_ISO.match(value):
        return value.replace(" ", "T") + "Z"
    return value


def _literal(value: Any) -> str:
    """A value in the filter language."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(_utc(value)).replace("'", "''") + "'"


# -- seed 002 ----------------------------------------------------------------

def init_db() -> None:
    """The schema is the registry's own (its migrations): this only checks the registry answers this token."""
    _registry().runs.stats()


def insert_run(run_id: str, wandb_run_id: Optional[str], config_dict: Mapping[str, Any],
               chain_of_custody_id: Optional[str] = None, *, run_name: Optional[str] = None,
               config_file_path: Optional[str] = None, host: Optional[str] = None,
               instance_id: Optional[str] = None) -> str:
    """Registers a run at launch (status ``launched``); answers its ``run_id``.

    Differs from the seed: inserting the same run again with the same content is not an error (a
    retried launch is answered with the stored run); with different content it raises ``Conflict``.
    The extracted hyperparameters come from ``config_dict`` on the server.
    """
    _registry().runs.create(run_id, config_dict, wandb_run_id=wandb_run_id, chain_of_custody_id=chain_of_custody_id,
                            run_name=run_name, config_file_path=config_file_path, host=host, instance_id=instance_id)
    return run_id


def update_run_status(run_id: str, status: str, *, duration_seconds: Optional[float] = None,
                      final_metrics_json: Optional[Mapping[str, Any]] = None, ended_at: Any = None,
                      started_at: Any = None, wandb_run_id: Optional[str] = None, wandb_url: Optional[str] = None,
                      final_loss: Optional[float] = None, final_reward: Optional[float] = None,
                      total_training_steps: Optional[int] = None,
                      wandb_runtime_seconds: Optional[float] = None) -> Dict[str, Any]:
    """Moves a run to ``status`` with the optional fields; answers the run (the seed answered nothing).

    Differs from the seed: the lifecycle is enforced (``launched -> running -> completed | failed |
    crashed``; an illegal move raises ``Conflict``, the same status again changes nothing);
    ``final_metrics_json`` is merged over the stored metrics rather than replacing them; ``started_at``
    defaults to now on ``running`` and ``ended_at``/``duration_seconds`` are filled on a terminal
    status. ``final_loss``, ``final_reward``, ``total_training_steps`` and ``wandb_runtime_seconds``
    are stored in the metrics under ``train/loss``, ``train/reward``, ``_step`` and ``_runtime``
    (their columns are read from there). Naive datetimes are UTC.
    """
    run = _registry().runs.update_status(
        run_id, status, duration_seconds=duration_seconds, final_metrics=final_metrics_json,
        ended_at=_utc(ended_at), started_at=_utc(started_at), wandb_run_id=wandb_run_id, wandb_url=wandb_url,
        final_loss=final_loss, final_reward=final_reward, total_training_steps=total_training_steps,
        wandb_runtime_seconds=wandb_runtime_seconds)
    return _seed_run(run)


def get_run(run_id: str) -> Optional[Dict[str, Any]]:
    """The run as a dict of all its fields, or None if there is no such run."""
    try:
        return _seed_run(_registry().runs.get(run_id))
    except NotFound:
        return None


def query_runs(filters: Optional[Mapping[str, Any]] = None, order_by: str = "created_at DESC",
               limit: Optional[int] = 100) -> List[Dict[str, Any]]:
    """Runs matching every filter, in ``order_by`` order, at most ``limit`` (None: all), fetched page by page.

    Filters: ``status``, ``host``, ``gradient_method``, ``batch_size``, ``min_duration_hours``,
    ``created_after``, ``created_before``, ``has_blog_post``, ``has_crash_analysis``, and any other run
    column (``num_objectives``, ``learning_rate``, ``model_name`` ...) compared for equality. ``order_by``
    is ``<field> [ASC|DESC]`` over the same fields (missing values sort last). Differs from the seed: an
    unknown filter or order field raises ``BadRequest`` instead of being ignored.
    """
    params: Dict[str, Any] = {}
    conditions = []
    for key, value in (filters or {}).items():
        if value is None:
            continue
        if key in _LIST_FILTERS:
            params[key] = _utc(value)
        elif _COLUMN.match(key):
            conditions.append(f"{key} = {_literal(value)}")
        else:
            raise ValueError(f"query_runs: {key!r} is not a column name")
    if conditions:
        params["filter"] = " AND ".join(conditions)
    page_size = PAGE_SIZE if limit is None else max(1, min(limit, PAGE_SIZE))
    runs = _registry().runs.list(order_by=order_by, page_size=page_size, **params)
    return [_seed_run(r) for r in islice(runs, limit)]


def attach_blog_post(run_id: str, blog_url: str) -> Dict[str, Any]:
    """Attaches the blog post URL (http or https); answers the run."""
    return _seed_run(_registry().runs.set_blog_post(run_id, blog_url))


def attach_crash_data(run_id: str, error_log_s3_key: Optional[str] = None, crash_report_s3_key: Optional[str] = None,
                      crash_analysis_s3_key: Optional[str] = None, *,
                      error_message: Optional[str] = None) -> Dict[str, Any]:
    """Attaches the crash's S3 keys; answers the run.

    Differs from the seed: this also marks the run ``crashed``, in the same transaction (a ``failed``
    run stays failed), as the seed's crash notifier did in two steps; a ``completed`` run raises
    ``Conflict``. Keys are checked (no scheme, no ``..``, not absolute). ``error_message`` is an extra.
    """
    return _seed_run(_registry().runs.report_crash(
        run_id, error_log_s3_key=error_log_s3_key, crash_report_s3_key=crash_report_s3_key,
        crash_analysis_s3_key=crash_analysis_s3_key, error_message=error_message))


def attach_conversation(run_id: str, conversation_s3_key: str) -> Dict[str, Any]:
    """Attaches the conversation's S3 key; answers the run."""
    return _seed_run(_registry().runs.set_conversation(run_id, conversation_s3_key))


def get_stats() -> Dict[str, int]:
    """``total_runs``, one count per status (``launched``, ``running``, ``completed``, ``failed``,
    ``crashed``), ``with_blog_posts`` and ``with_crash_analysis``: the seed's flat keys."""
    stats = _registry().runs.stats()
    return {"total_runs": stats["total_runs"], **stats["by_status"],
            "with_blog_posts": stats["with_blog_posts"], "with_crash_analysis": stats["with_crash_analysis"]}


# -- seed 003: objectives ------------------------------------------------------

def get_run_objectives(run_id: str) -> List[Dict[str, Any]]:
    """The run's objectives (name, alias, uniprot, weight, direction and final values); [] for no such run.

    Differs from the seed: the registry derives these rows from the run's config (``objectives[]``)
    and final metrics (``objectives/<alias>/<metric>``), so there is no ``insert_objective`` or
    ``update_objective_metric``: register the config and report the metrics instead.
    """
    try:
        return list(_registry().runs.get(run_id)["objectives"])
    except NotFound:
        return []


def query_runs_by_objectives(objective_filters: Mapping[str, Mapping[str, float]], gradient_method: Optional[str] = None,
                             status: Optional[str] = None, *, metric: str = "raw_mean",
                             limit: Optional[int] = None) -> List[Dict[str, Any]]:
    """Runs meeting every bound (``{'COMT_activity': {'min': 0.8}}``), newest first, all of them unless ``limit``.

    ``metric`` (an extra) bounds ``normalized_mean`` instead of ``raw_mean``.
    """
    page_size = PAGE_SIZE if limit is None else max(1, min(limit, PAGE_SIZE))
    runs = _registry().runs.query_by_objectives(objective_filters, metric=metric, gradient_method=gradient_method,
                                                status=status, page_size=page_size)
    return [_seed_run(r) for r in islice(runs, limit)]


def get_objective_statistics(objective_name: str, gradient_method: Optional[str] = None, *,
                             metric: str = "raw_mean") -> Dict[str, Any]:
    """``count``, ``mean``, ``min``, ``max``, ``stddev``, ``p50``, ``p90`` of the objective over completed runs.

    An objective no run has gives ``count`` 0 and None for the rest, as an empty SQL aggregate did.
    """
    try:
        return _registry().runs.objective_stats(objective_name, gradient_method=gradient_method, metric=metric)
    except NotFound:
        return {"objective_name": objective_name, "metric": metric, "gradient_method": gradient_method, "count": 0,
                "mean": None, "min": None, "max": None, "stddev": None, "p50": None, "p90": None}


def compare_gradient_methods(objective_name: str, *, metric: str = "raw_mean") -> List[Dict[str, Any]]:
    """Per gradient method, over completed runs with a value: ``gradient_method``, ``num_runs``, ``avg``,
    ``best``, best average first (the seed's keys), plus the registry's ``completed``, ``failed``,
    ``crashed``, ``crash_rate`` and ``stddev``. ``best`` is the minimum for an objective to minimize."""
    try:
        methods = _registry().runs.compare_gradient_methods(objective_name, metric=metric)["methods"]
    except NotFound:
        return []
    return [{**m, "num_runs": m["runs_with_value"], "avg": m["mean"]} for m in methods if m["runs_with_value"]]


def delete_run_objectives(run_id: str) -> int:
    """Deletes the run's objective rows (its owner only); answers how many went.

    Differs from the seed: the rows come back from the config and metrics the next time either changes.
    """
    return _registry().runs.delete_objectives(run_id)["deleted"]
