"""The resource API: one method per route of the registry's functions, named
for what it does (``client.runs.create``, ``client.packages.publish``). Lists
are ``Pager`` objects: iterate them for items (pages are fetched as you go),
or call ``.pages()`` for the pages themselves.

Keyword arguments left at None are not sent ("not given"), except in the
PATCH-style ``update_version`` and ``update_training``, where what you pass
is sent as is and None clears a field.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional

from ._http import _NO_BODY, Download, Http, drop_none, encode_json, quote

__all__ = ["Client", "Page", "Pager", "Download"]

#: Events per POST /training-examples/logs: the server's batch limit.
LOG_BATCH_SIZE = 1000


@dataclass
class Page:
    items: List[Dict[str, Any]]
    next_cursor: Optional[str]


class Pager:
    """A keyset-paged list. Iterating yields items across pages; ``pages()`` yields pages."""

    def __init__(self, fetch: Callable[[Optional[str]], Mapping[str, Any]]) -> None:
        self._fetch = fetch

    def pages(self) -> Iterator[Page]:
        cursor: Optional[str] = None
        while True:
            body = self._fetch(cursor)
            yield Page(list(body["items"]), body.get("next_cursor"))
            cursor = body.get("next_cursor")
            if not cursor:
                return

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for page in self.pages():
            yield from page.items

    def all(self) -> List[Dict[str, Any]]:
        return list(self)


class Client:
    """A client of the training registry's functions.

    ``base_url``: the functions' base, ``http://127.0.0.1:54321/functions/v1`` locally (or a
    Supabase project URL, whose ``/functions/v1`` is meant); default ``TRAINING_REGISTRY_URL``.
    ``token``: a user's or the service role's JWT; default ``TRAINING_REGISTRY_TOKEN``.
    ``webhook_token``: the W&B webhook's bearer token (``WANDB_WEBHOOK_TOKEN``), only for
    ``wandb_webhook``. ``timeout`` is per socket operation, in seconds. ``retries`` more attempts
    are made after connection failures and 502/503/504, ``backoff`` seconds apart, doubling.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        webhook_token: Optional[str] = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        from . import __version__

        self.http = Http(base_url, token, timeout=timeout, retries=retries, backoff=backoff,
                         max_backoff=max_backoff, user_agent=f"training-registry-python/{__version__}")
        self.webhook_token = webhook_token or os.environ.get("WANDB_WEBHOOK_TOKEN")
        self.runs = Runs(self.http)
        self.packages = Packages(self.http)
        self.conversations = Conversations(self.http)
        self.training_examples = TrainingExamples(self.http)
        self.wandb_webhook = WandbWebhook(self)

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None, json: Any = _NO_BODY) -> Any:
        """Any call by hand (``path`` below the functions' base, e.g. ``/runs/stats``), with the same retries and errors."""
        return self.http.call(method, path, params=params, json_body=json)


class _Resource:
    def __init__(self, http: Http) -> None:
        self._http = http

    def _pager(self, path: str, params: Mapping[str, Any], page_size: Optional[int]) -> Pager:
        return Pager(lambda cursor: self._http.call("GET", path, params={**params, "limit": page_size, "cursor": cursor}))


class Runs(_Resource):
    """``/runs``: the training-runs registry."""

    def create(self, run_id: str, config: Mapping[str, Any], *, wandb_run_id: Optional[str] = None,
               chain_of_custody_id: Optional[str] = None, run_name: Optional[str] = None,
               config_file_path: Optional[str] = None, host: Optional[str] = None,
               instance_id: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Registers a run at launch (status ``launched``). The same launch again answers the stored run."""
        return self._http.call("POST", "/runs", json_body={"run_id": run_id, "config": config, **drop_none(
            wandb_run_id=wandb_run_id, chain_of_custody_id=chain_of_custody_id, run_name=run_name,
            config_file_path=config_file_path, host=host, instance_id=instance_id, metadata=metadata)})

    def update(self, run_id: str, metadata: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
        """Changes a run's free-form metadata (owner only): merged over the stored object as a JSON merge patch
        (a key set to None is removed); ``metadata=None`` clears it all."""
        return self._http.call("PATCH", f"/runs/{quote(run_id)}", json_body={"metadata": metadata})

    def gradient_method_stats(self, *, filter: Optional[str] = None, created_after: Any = None,
                              created_before: Any = None) -> Dict[str, Any]:
        """Per gradient method: runs, completed/failed/crashed/active, ``success_rate`` and the mean, p50 and p90
        duration of completed runs (None where there is nothing to average), over ``filter`` and a created_at range."""
        return self._http.call("GET", "/runs/analytics/gradient-methods",
                               params=drop_none(filter=filter, created_after=created_after, created_before=created_before))

    def list(self, *, filter: Optional[str] = None, order_by: Optional[str] = None, status: Optional[str] = None,
             host: Optional[str] = None, gradient_method: Optional[str] = None, batch_size: Optional[int] = None,
             min_duration_hours: Optional[float] = None, created_after: Any = None, created_before: Any = None,
             has_blog_post: Optional[bool] = None, has_crash_analysis: Optional[bool] = None,
             select: Optional[Iterable[str]] = None, page_size: Optional[int] = None) -> Pager:
        """Runs, newest first unless ``order_by`` (``"duration_seconds DESC"``); ``filter`` in the filter language.
        ``select`` (``["run_id", "status", "final_loss"]``) keeps only those top-level fields of each run: a
        dashboard's page without the 2-5 KB configs."""
        fields = None if select is None else select if isinstance(select, str) else ",".join(select)
        params = drop_none(filter=filter, order_by=order_by, status=status, host=host, gradient_method=gradient_method,
                           batch_size=batch_size, min_duration_hours=min_duration_hours, created_after=created_after,
                           created_before=created_before, has_blog_post=has_blog_post, has_crash_analysis=has_crash_analysis,
                           select=fields)
        return self._pager("/runs", params, page_size)

    def stats(self) -> Dict[str, Any]:
        """``total_runs``, ``by_status``, ``with_blog_posts``, ``with_crash_analysis``."""
        return self._http.call("GET", "/runs/stats")

    def get(self, run_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"/runs/{quote(run_id)}")

    def update_status(self, run_id: str, status: str, *, started_at: Any = None, ended_at: Any = None,
                      duration_seconds: Optional[float] = None, wandb_run_id: Optional[str] = None,
                      wandb_url: Optional[str] = None, final_metrics: Optional[Mapping[str, Any]] = None,
                      final_loss: Optional[float] = None, final_reward: Optional[float] = None,
                      total_training_steps: Optional[int] = None,
                      wandb_runtime_seconds: Optional[float] = None) -> Dict[str, Any]:
        """Moves a run through ``launched -> running -> completed | failed | crashed``; metrics merge over the stored ones."""
        return self._http.call("PATCH", f"/runs/{quote(run_id)}/status", json_body={"status": status, **drop_none(
            started_at=started_at, ended_at=ended_at, duration_seconds=duration_seconds, wandb_run_id=wandb_run_id,
            wandb_url=wandb_url, final_metrics=final_metrics, final_loss=final_loss, final_reward=final_reward,
            total_training_steps=total_training_steps, wandb_runtime_seconds=wandb_runtime_seconds)})

    def report_crash(self, run_id: str, *, error_log_s3_key: Optional[str] = None,
                     crash_report_s3_key: Optional[str] = None, crash_analysis_s3_key: Optional[str] = None,
                     error_message: Optional[str] = None) -> Dict[str, Any]:
        """Marks the run crashed (a failed one stays failed) and attaches the crash data, in one transaction."""
        return self._http.call("POST", f"/runs/{quote(run_id)}/crash", json_body=drop_none(
            error_log_s3_key=error_log_s3_key, crash_report_s3_key=crash_report_s3_key,
            crash_analysis_s3_key=crash_analysis_s3_key, error_message=error_message))

    def set_blog_post(self, run_id: str, url: str) -> Dict[str, Any]:
        return self._http.call("PUT", f"/runs/{quote(run_id)}/blog-post", json_body={"url": url})

    def set_conversation(self, run_id: str, s3_key: str) -> Dict[str, Any]:
        return self._http.call("PUT", f"/runs/{quote(run_id)}/conversation", json_body={"s3_key": s3_key})

    def query_by_objectives(self, objectives: Mapping[str, Mapping[str, float]], *, metric: Optional[str] = None,
                            gradient_method: Optional[str] = None, status: Optional[str] = None,
                            filter: Optional[str] = None, order_by: Optional[str] = None,
                            page_size: Optional[int] = None) -> Pager:
        """Runs meeting every bound: ``{"COMT_activity": {"min": 0.8}, "DRD5_activity": {"min": 0.7, "max": 0.95}}``."""
        body = {"objectives": objectives, **drop_none(metric=metric, gradient_method=gradient_method, status=status,
                                                      filter=filter, order_by=order_by, limit=page_size)}
        return Pager(lambda cursor: self._http.call("POST", "/runs/query-by-objectives",
                                                    json_body={**body, **drop_none(cursor=cursor)}))

    def objective_stats(self, name: str, *, gradient_method: Optional[str] = None,
                        metric: Optional[str] = None) -> Dict[str, Any]:
        """count, mean, min, max, stddev, p50, p90 of an objective over completed runs (NotFound: no run has it)."""
        return self._http.call("GET", f"/runs/objectives/{quote(name)}/stats",
                               params=drop_none(gradient_method=gradient_method, metric=metric))

    def compare_gradient_methods(self, name: str, *, metric: Optional[str] = None) -> Dict[str, Any]:
        return self._http.call("GET", f"/runs/objectives/{quote(name)}/compare-gradient-methods",
                               params=drop_none(metric=metric))

    def delete_objectives(self, run_id: str) -> Dict[str, Any]:
        """Removes a run's objective rows (owner only): ``{"run_id", "deleted"}``."""
        return self._http.call("DELETE", f"/runs/{quote(run_id)}/objectives")


class Packages(_Resource):
    """``/packages``: training packages and their numbered versions (draft -> published -> archived)."""

    def create(self, name: str, *, template_type: Optional[str] = None,
               config: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        return self._http.call("POST", "/packages", json_body={"name": name, **drop_none(template_type=template_type, config=config)})

    def list(self, *, page_size: Optional[int] = None) -> Pager:
        return self._pager("/packages", {}, page_size)

    def get(self, package_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"/packages/{quote(package_id)}")

    def next_version_number(self, package_id: str) -> int:
        return self._http.call("GET", f"/packages/{quote(package_id)}/next-version-number")["next_version_number"]

    def create_version(self, package_id: str, **fields: Any) -> Dict[str, Any]:
        """A draft with the next number: ``name``, ``config_snapshot``, ``model_snapshot``, ``dataset_snapshot``,
        ``change_summary``, ``estimated_cost``, ``budget_limit``."""
        return self._http.call("POST", f"/packages/{quote(package_id)}/versions", json_body=drop_none(**fields))

    def list_versions(self, package_id: str, *, status: Optional[str] = None, over_budget: Optional[bool] = None,
                      page_size: Optional[int] = None) -> Pager:
        """Versions newest first; ``over_budget=True``: those whose actual_cost reached their budget_limit."""
        return self._pager(f"/packages/{quote(package_id)}/versions", drop_none(status=status, over_budget=over_budget),
                           page_size)

    def get_version(self, version_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"/packages/versions/{quote(version_id)}")

    def get_version_by_number(self, package_id: str, number: int) -> Dict[str, Any]:
        return self._http.call("GET", f"/packages/{quote(package_id)}/versions/{int(number)}")

    def update_version(self, version_id: str, **changes: Any) -> Dict[str, Any]:
        """Edits a draft; sends exactly ``changes`` (None clears ``change_summary``, ``estimated_cost``, ``budget_limit``)."""
        return self._http.call("PATCH", f"/packages/versions/{quote(version_id)}", json_body=changes)

    def delete_version(self, version_id: str) -> Dict[str, Any]:
        return self._http.call("DELETE", f"/packages/versions/{quote(version_id)}")

    def publish(self, version_id: str) -> Dict[str, Any]:
        return self._http.call("POST", f"/packages/versions/{quote(version_id)}/publish")

    def archive(self, version_id: str) -> Dict[str, Any]:
        return self._http.call("POST", f"/packages/versions/{quote(version_id)}/archive")

    def fork(self, version_id: str, *, name: Optional[str] = None, change_summary: Optional[str] = None) -> Dict[str, Any]:
        return self._http.call("POST", f"/packages/versions/{quote(version_id)}/fork",
                               json_body=drop_none(name=name, change_summary=change_summary))

    def diff(self, version_id: str, against: str) -> Dict[str, Any]:
        """What changed from ``against`` (old) to ``version_id`` (new), as JSON-pointer operations."""
        return self._http.call("GET", f"/packages/versions/{quote(version_id)}/diff", params={"against": against})

    def set_deployment(self, version_id: str, is_deployed: bool, *, deployment_target: Optional[str] = None,
                       deployment_url: Optional[str] = None, deployment_id: Optional[str] = None) -> Dict[str, Any]:
        return self._http.call("PUT", f"/packages/versions/{quote(version_id)}/deployment", json_body={
            "is_deployed": is_deployed,
            **drop_none(deployment_target=deployment_target, deployment_url=deployment_url, deployment_id=deployment_id)})

    def update_training(self, version_id: str, **changes: Any) -> Dict[str, Any]:
        """``training_status``, ``training_metrics``, costs; sends exactly ``changes`` (None clears a cost)."""
        return self._http.call("PATCH", f"/packages/versions/{quote(version_id)}/training", json_body=changes)


class _Library(_Resource):
    """Templates, scenarios or edge cases under ``/conversations``: yours to write, the shared ones to read."""

    def __init__(self, http: Http, path: str) -> None:
        super().__init__(http)
        self._path = path

    def list(self, *, page_size: Optional[int] = None, **filters: Any) -> Pager:
        """Filters: ``active``, ``created_by``; templates ``tier``, ``category``, ``persona``, ``emotion``, ``topic``
        (applicability); scenarios ``status``, ``persona``, ``topic``, ``parent_template_id``; edge cases
        ``risk_level``, ``edge_case_type``, ``test_status``, ``parent_template_id``."""
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in drop_none(**filters).items()}
        return self._pager(self._path, params, page_size)

    def get(self, item_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"{self._path}/{quote(item_id)}")

    def create(self, **fields: Any) -> Dict[str, Any]:
        return self._http.call("POST", self._path, json_body=drop_none(**fields))

    def update(self, item_id: str, **changes: Any) -> Dict[str, Any]:
        """Sends exactly ``changes`` (None clears a field)."""
        return self._http.call("PATCH", f"{self._path}/{quote(item_id)}", json_body=changes)

    def deactivate(self, item_id: str) -> Dict[str, Any]:
        return self._http.call("POST", f"{self._path}/{quote(item_id)}/deactivate")


class Conversations(_Resource):
    """``/conversations``: fine-tuning conversations, scores, review, exports, generation logs, authoring,
    reviewers, templates / scenarios / edge cases (``.templates``, ``.scenarios``, ``.edge_cases``), batch jobs."""

    def __init__(self, http: Http) -> None:
        super().__init__(http)
        self.templates = _Library(http, "/conversations/templates")
        self.scenarios = _Library(http, "/conversations/scenarios")
        self.edge_cases = _Library(http, "/conversations/edge-cases")

    def update(self, key: str, **changes: Any) -> Dict[str, Any]:
        """Edits a draft, generated or in-revision conversation: sends exactly ``changes`` (``turns`` replace the stored ones)."""
        return self._http.call("PATCH", f"/conversations/{quote(key)}", json_body=changes)

    def delete(self, key: str) -> Dict[str, Any]:
        """Deletes a draft."""
        return self._http.call("DELETE", f"/conversations/{quote(key)}")

    def submit(self, key: str) -> Dict[str, Any]:
        return self._http.call("POST", f"/conversations/{quote(key)}/submit")

    def archive(self, key: str) -> Dict[str, Any]:
        return self._http.call("POST", f"/conversations/{quote(key)}/archive")

    def reviewers(self, *, page_size: Optional[int] = None) -> Pager:
        return self._pager("/conversations/reviewers", {}, page_size)

    def grant_reviewer(self, user_id: str) -> Dict[str, Any]:
        """Service role."""
        return self._http.call("PUT", f"/conversations/reviewers/{quote(user_id)}")

    def revoke_reviewer(self, user_id: str) -> Dict[str, Any]:
        """Service role."""
        return self._http.call("DELETE", f"/conversations/reviewers/{quote(user_id)}")

    def start_batch_job(self, job_type: str, **fields: Any) -> Dict[str, Any]:
        """Service role: ``validation`` (``filter``), ``cleanup`` (``older_than_days``, ``filter``) run to the end;
        ``generation`` (``total_items``, ``name``) is a record its worker reports to."""
        return self._http.call("POST", "/conversations/batch-jobs", json_body={"job_type": job_type, **drop_none(**fields)})

    def report_batch_job(self, job_id: str, processed_before: int, succeeded: int, *, failed: Optional[int] = None,
                         results: Optional[Mapping[str, float]] = None) -> Dict[str, Any]:
        return self._http.call("POST", f"/conversations/batch-jobs/{quote(job_id)}/progress", json_body={
            "processed_before": processed_before, "succeeded": succeeded, **drop_none(failed=failed, results=results)})

    def finish_batch_job(self, job_id: str, *, error: Optional[str] = None) -> Dict[str, Any]:
        return self._http.call("POST", f"/conversations/batch-jobs/{quote(job_id)}/finish", json_body=drop_none(error=error))

    def create(self, turns: List[Mapping[str, Any]], **fields: Any) -> Dict[str, Any]:
        """Stores a conversation with its turns (``[{"role": "user", "content": ...}, ...]``), scored by the database."""
        return self._http.call("POST", "/conversations", json_body={**drop_none(**fields), "turns": turns})

    def list(self, *, page_size: Optional[int] = None, **filters: Any) -> Pager:
        """Filters: ``status``, ``tier``, ``persona``, ``emotion``, ``topic``, ``flagged``, ``min_quality``,
        ``max_quality``, ``q`` (full text), ``created_after``, ``created_before``, ``template_id``; and ``order``
        (``created_at.desc``, ``quality_score.desc``, ``quality_score.asc``)."""
        return self._pager("/conversations", drop_none(**filters), page_size)

    def review_queue(self, *, page_size: Optional[int] = None) -> Pager:
        return self._pager("/conversations/review-queue", {}, page_size)

    def list_exports(self, *, page_size: Optional[int] = None) -> Pager:
        return self._pager("/conversations/exports", {}, page_size)

    def export(self, format: str, to: Any, *, shape: Optional[str] = None, filter: Optional[Mapping[str, Any]] = None,
               include_metadata: Optional[bool] = None, progress: Optional[Callable[[int], None]] = None) -> Download:
        """Streams an export (``jsonl``, ``json``, ``csv``, ``markdown``) to ``to`` (a path, a directory or a file
        object); ``progress(bytes_written)`` is called as it arrives. The status defaults to approved unless ``filter`` names one."""
        body = {"format": format, **drop_none(shape=shape, filter=filter, include_metadata=include_metadata)}
        return self._http.download("POST", "/conversations/exports", to, json_body=body, progress=progress)

    def rescore(self, *, threshold: Optional[float] = None, filter: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        return self._http.call("POST", "/conversations/rescore", json_body=drop_none(threshold=threshold, filter=filter))

    def batch_job(self, job_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"/conversations/batch-jobs/{quote(job_id)}")

    def log_generation(self, model_used: str, **fields: Any) -> Dict[str, Any]:
        """Records one generator call (service role)."""
        return self._http.call("POST", "/conversations/generation-logs", json_body={"model_used": model_used, **drop_none(**fields)})

    def generation_stats(self, *, from_: Any = None, to: Any = None) -> Dict[str, Any]:
        return self._http.call("GET", "/conversations/generation-logs/stats", params=drop_none(**{"from": from_, "to": to}))

    def get(self, key: str) -> Dict[str, Any]:
        """By uuid or ``conversation_id``, with its turns."""
        return self._http.call("GET", f"/conversations/{quote(key)}")

    def review(self, key: str, action: str, *, note: Optional[str] = None) -> Dict[str, Any]:
        """``approve``, ``reject`` or ``request_changes`` (reviewers)."""
        return self._http.call("POST", f"/conversations/{quote(key)}/review", json_body={"action": action, **drop_none(note=note)})

    def score(self, key: str) -> Dict[str, Any]:
        return self._http.call("POST", f"/conversations/{quote(key)}/score")


class TrainingExamples(_Resource):
    """``/training-examples``: LLM trace logs in, annotated examples, few-shot retrieval, exports."""

    def log_batch(self, events: Iterable[Mapping[str, Any]], *, batch_size: int = LOG_BATCH_SIZE) -> Dict[str, int]:
        """Ingests events (service role) in batches of ``batch_size`` (at most 1,000, one transaction each).

        ``events`` may be any iterable, a generator included; answers the totals over all batches.
        A retried batch is harmless: replayed event ids are ignored.
        """
        if not 1 <= batch_size <= LOG_BATCH_SIZE:
            raise ValueError(f"batch_size must be 1-{LOG_BATCH_SIZE}")
        totals = {"received": 0, "inserted": 0, "duplicates": 0}
        batch: List[Mapping[str, Any]] = []
        for event in events:
            batch.append(event)
            if len(batch) == batch_size:
                self._ingest(batch, totals)
                batch = []
        if batch:
            self._ingest(batch, totals)
        return totals

    def _ingest(self, batch: List[Mapping[str, Any]], totals: Dict[str, int]) -> None:
        answer = self._http.call("POST", "/training-examples/logs", json_body={"items": batch})
        for key in totals:
            totals[key] += answer[key]

    def run_search_index(self, *, limit: Optional[int] = None) -> Dict[str, Any]:
        """One batch of the full-text indexer (service role): ``{"indexed", "pending"}``."""
        return self._http.call("POST", "/training-examples/search-index", params=drop_none(limit=limit))

    def list(self, *, page_size: Optional[int] = None, **filters: Any) -> Pager:
        """Filters: ``cascade_id``, ``cell_name``, ``model``, ``trainable``, ``verified``, ``min_confidence``, ``tag``,
        ``q`` (full text), ``created_after``, ``created_before``."""
        return self._pager("/training-examples", drop_none(**filters), page_size)

    def few_shot(self, *, cascade_id: Optional[str] = None, cell_name: Optional[str] = None, k: Optional[int] = None,
                 query: Optional[str] = None) -> Dict[str, Any]:
        """The ``k`` best trainable examples for a prompt, in the order to inject them, and ``total_available``."""
        return self._http.call("GET", "/training-examples/few-shot",
                               params=drop_none(cascade_id=cascade_id, cell_name=cell_name, k=k, query=query))

    def stats(self, *, cascade_id: Optional[str] = None) -> Dict[str, Any]:
        return self._http.call("GET", "/training-examples/stats", params=drop_none(cascade_id=cascade_id))

    def export(self, to: Any, *, format: Optional[str] = None, cascade_id: Optional[str] = None,
               progress: Optional[Callable[[int], None]] = None) -> Download:
        """Streams the trainable examples as JSONL (``openai`` or ``sharegpt`` records) to ``to``."""
        return self._http.download("GET", "/training-examples/export", to,
                                   params=drop_none(format=format, cascade_id=cascade_id), progress=progress)

    def get(self, trace_id: str) -> Dict[str, Any]:
        return self._http.call("GET", f"/training-examples/{quote(trace_id)}")

    def annotate(self, trace_id: str, trainable: bool, *, verified: Optional[bool] = None,
                 confidence: Optional[float] = None, notes: Optional[str] = None,
                 tags: Optional[List[str]] = None) -> Dict[str, Any]:
        """Writes the example's annotation (replacing the one there; the history keeps it)."""
        return self._http.call("PUT", f"/training-examples/{quote(trace_id)}/annotation", json_body={
            "trainable": trainable, **drop_none(verified=verified, confidence=confidence, notes=notes, tags=tags)})

    def clear_annotation(self, trace_id: str) -> Dict[str, Any]:
        return self._http.call("DELETE", f"/training-examples/{quote(trace_id)}/annotation")


class WandbWebhook:
    """``/wandb-webhook``: what a training wrapper (or W&B) delivers, with the webhook's own token."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def deliver(self, payload: Mapping[str, Any], *, token: Optional[str] = None,
                secret: Optional[str] = None) -> Dict[str, Any]:
        """Posts a run report or an automation payload; ``secret`` (WANDB_WEBHOOK_SECRET) signs the body.

        Answers ``{"delivery_id", "outcome", "run_id"}``: applied, created, duplicate, stale, recorded, unmatched.
        """
        token = token or self._client.webhook_token
        if not token:
            raise ValueError("the webhook needs its own token: Client(webhook_token=...) or WANDB_WEBHOOK_TOKEN")
        data = encode_json(payload)
        headers = {}
        if secret:
            headers["x-wandb-signature"] = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
        return self._client.http.call("POST", "/wandb-webhook", data=data, headers=headers, token=token)

    def report(self, run_id: str, state: str, summary: Mapping[str, Any], **fields: Any) -> Dict[str, Any]:
        """A run report: ``state`` is W&B's (RUNNING, FINISHED, FAILED, CRASHED, KILLED); ``summary`` the run summary;
        ``fields``: ``wandb_run_id``, ``wandb_url``, ``run_name``, ``config``, ``timestamp``."""
        return self.deliver({"run_id": run_id, "state": state, "summary": summary, **drop_none(**fields)})
